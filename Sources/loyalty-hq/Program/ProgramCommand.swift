import ArgumentParser
import Foundation
import HeadOffice
import LoyaltyCore

/// `loyalty-hq program publish|show|history`: the versioned program the stores earn and redeem by.
struct ProgramCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "program",
        abstract: "The loyalty program's versions: publish a new one, show one, list them.",
        discussion: """
            A program file is YAML (or JSON): see sync/examples/program.yaml and sync/schemas/program.schema.json. \
            Stores receive a published version with their next sync and switch to it at its valid_from; a store \
            offline keeps earning on the last version it has. Every entry records the version that produced it.
            """,
        subcommands: [Publish.self, Show.self, History.self])

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a program file and store it as the next version.")
        @Argument(help: "The program file (YAML or JSON).") var file: String
        @Option(help: "Who publishes, for the audit trail (default: the login name).") var by: String?
        @Option(help: "Why (kept in the audit trail).") var reason: String?
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CommandFailure(code: "unreadable_file", message: "cannot read \(file) as UTF-8 text: check the path", exitCode: 2)
            }
            let definition = try ProgramFile.parse(text)
            _ = try definition.program(version: 2)  // every rule checked before anything is stored
            let actor = try OperatorInput.actor(by)
            let reason = try OperatorInput.reason(reason)
            let (published, isNew) = try await storage.withStore { store, _ in
                // The same program again (a retried script, a second click) is no new version: stores
                // would switch for nothing and the history would say the program changed.
                if let latest = try await store.programs().max(by: { $0.program.version < $1.program.version }) {
                    var candidate = try definition.program(version: latest.program.version)
                    candidate.couponKey = latest.program.couponKey
                    if candidate == latest.program { return (latest, false) }
                }
                return (try await store.publishProgram(definition, actor: actor, reason: reason, now: Date()), true)
            }
            if !isNew {
                Output.out(
                    storage.json
                        ? Output.json(Unchanged(version: published.program.version))
                        : "Program version \(published.program.version) (published \(Output.iso(published.publishedAtMilliseconds)) "
                            + "by \(published.publishedBy)) is this program already; nothing was published.")
                return
            }
            if storage.json {
                Output.out(Output.json(published))
            } else {
                // In the zone the new program counts days in: its valid_from is a time of that program.
                let validFrom = ChainTime.text(
                    milliseconds: published.program.validFromMilliseconds ?? 0, timeZone: published.program.chainTimeZone)
                Output.out(
                    "Published program version \(published.program.version), valid from \(validFrom); stores switch to it at "
                        + "their next sync after that.")
            }
        }
    }

    /// `publish --json` of a program identical to the latest version.
    struct Unchanged: Encodable {
        var version: Int
        var status = "unchanged"
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a version (default: the one in force now).")
        @Option(help: "The version to show.") var version: Int?
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let published = try await storage.withStore { store, _ in try await store.programs() }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let standard = PublishedProgram(program: .standard(), publishedAtMilliseconds: 0, publishedBy: "built in")
            let chosen: PublishedProgram?
            if let version {
                chosen = version == 1 ? standard : published.first { $0.program.version == version }
            } else {
                chosen = PublishedProgram.inForce(published, atMilliseconds: now) ?? standard
            }
            guard let chosen else {
                throw CommandFailure(code: "unknown_version", message: "there is no program version \(version ?? 0); see `loyalty-hq program history`", exitCode: 2)
            }
            if storage.json {
                // The program file's own fields: edit it and `program publish` it again.
                Output.out(ProgramFileDocument(chosen.program).json())
                return
            }
            Output.out(ProgramDescription.lines(chosen, validFrom: Output.iso).joined(separator: "\n"))
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every version: number, valid from, published when and by whom.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let published = try await storage.withStore { store, _ in try await store.programs() }
            struct Row: Encodable {
                var version: Int
                var validFrom: String
                var publishedAt: String
                var publishedBy: String
            }
            let rows = [Row(version: 1, validFrom: "always", publishedAt: "built in", publishedBy: "built in")] + published.map {
                Row(
                    version: $0.program.version, validFrom: Output.iso($0.program.validFromMilliseconds),
                    publishedAt: Output.iso($0.publishedAtMilliseconds), publishedBy: $0.publishedBy)
            }
            if storage.json {
                struct Body: Encodable { var versions: [Row] }
                Output.out(Output.json(Body(versions: rows)))
            } else {
                for row in rows {
                    Output.out("version=\(row.version)  valid_from=\(row.validFrom)  published_at=\(row.publishedAt)  by=\(row.publishedBy)")
                }
            }
        }
    }
}
