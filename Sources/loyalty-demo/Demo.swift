import ArgumentParser
import CardReader
import Foundation
import LedgerStore
import LoyaltyCore
import PointOfSaleAPI
import SyncClient
import SyncProtocol

/// `loyalty-demo`: the whole product on embedded defaults in a throw-away folder — head office
/// in this process on SQLite, two stores with their POS APIs and pages, recorded scans replayed
/// through the real decoder, sales and redemptions, one store offline and back, sync, and head
/// office's report. Every step is the code a real till and head office run.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loyalty-demo",
        abstract:
            "Run a whole store day on embedded defaults: head office, two stores, scans, sales, an offline store, sync, report.",
        discussion: """
            Prints where the pages are (kiosk, manager, head-office dashboard) while it runs. With a terminal it keeps them \
            up until Enter; --serve-seconds N keeps them up N seconds (0: stop at once). Exit 0 when every ledger verifies \
            and head office's total equals the stores' ledgers, else 3. The scans are read by `loyalty-agent scan` \
            under umockdev when both are installed (loyalty-agent beside this program or on PATH).
            """)

    @Option(
        help: ArgumentHelp(
            "Where the scanner recordings are (default: device/fixtures, else /usr/share/loyalty-agent/fixtures, else the one built in).",
            valueName: "path"))
    var fixtures: String?
    @Option(
        help: ArgumentHelp(
            "Keep the pages up this many seconds at the end (default: until Enter on a terminal, else 0).",
            valueName: "seconds"))
    var serveSeconds: Int?
    @Option(
        help: ArgumentHelp(
            "Keep the demo's databases in this folder (default: a temporary folder, removed at the end).",
            valueName: "path"))
    var folder: String?

    func run() async throws {
        if let serveSeconds, !(0...86_400).contains(serveSeconds) {
            throw LoyaltyError.badInput("bad_option", "--serve-seconds takes 0 to 86400")
        }
        let work =
            folder
            ?? FileManager.default.temporaryDirectory.appendingPathComponent(
                "loyalty-demo-\(UUID().uuidString.prefix(8))"
            ).path
        do {
            try FileManager.default.createDirectory(
                atPath: work, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            guard FileManager.default.isWritableFile(atPath: work) else { throw CocoaError(.fileWriteNoPermission) }
        } catch {
            throw LoyaltyError.badInput(
                "bad_folder", "cannot keep the demo's databases in \(work) (it is not a folder this user can write); "
                    + "give another --folder, or none for a temporary one")
        }
        if folder == nil {
            // Ctrl-C while the pages are served must not leave the temporary folder behind.
            TemporaryFolderCleanup.removeOnInterrupt(work)
        }
        defer { if folder == nil { try? FileManager.default.removeItem(atPath: work) } }
        let script = DemoScript(work: work, fixtures: try fixtureFolder(work: work))
        let ok = try await script.run(serveSeconds: serveSeconds ?? (isatty(0) == 1 ? -1 : 0))
        if !ok { throw ExitCode(3) }
    }

    /// The recordings named by --fixtures, else the checkout's or the package's, else the one built
    /// into the binary, written into the demo's folder (the binary may be installed anywhere).
    private func fixtureFolder(work: String) throws -> String {
        if let fixtures {
            guard FileManager.default.fileExists(atPath: fixtures + "/\(EmbeddedRecording.name).evemu") else {
                throw LoyaltyError.badInput(
                    "no_fixtures", "no scanner recording \(EmbeddedRecording.name).evemu in \(fixtures) (--fixtures)")
            }
            return fixtures
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [
            "device/fixtures",
            executable.deletingLastPathComponent().appendingPathComponent("../../device/fixtures").standardized.path,
            "/usr/share/loyalty-agent/fixtures",
        ]
        if let found = candidates.first(where: {
            FileManager.default.fileExists(atPath: $0 + "/\(EmbeddedRecording.name).evemu")
        }) {
            return found
        }
        let folder = work + "/recordings"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (suffix, text) in [("umockdev", EmbeddedRecording.umockdev), ("evemu", EmbeddedRecording.evemu)] {
            try (text + "\n").write(
                toFile: folder + "/\(EmbeddedRecording.name).\(suffix)", atomically: true, encoding: .utf8)
        }
        return folder
    }
}
