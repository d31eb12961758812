import ArgumentParser
import Foundation
import HeadOffice
import LoyaltyCore

/// `loyalty-hq settings show|set`: the chain's time zone, currency and segment thresholds.
struct Settings: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The chain's report settings: time zone, currency, segment thresholds, CLV margin.",
        subcommands: [Show.self, Set.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every setting.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let (settings, zone) = try await storage.withStore { store, _ in
                (try await store.analyticsSettings(), try await store.chainTimeZone())
            }
            Settings.print(settings, json: storage.json, chainTimeZone: zone)
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change one setting (recorded in the audit trail).",
            discussion: "Keys: \(AnalyticsSettings.keys.joined(separator: ", ")).")
        @Argument(help: "The setting's key.") var key: String
        @Argument(help: "Its new value.") var value: String
        @Option(help: "Who changes it, for the audit trail (default: the login name).") var by: String?
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let (key, value, actor) = (key, value, try OperatorInput.actor(by))
            let settings = try await storage.withStore { store, _ in
                // One chain time zone: while the program in force names its own (`earning.time_zone`, where
                // the tills count days), the setting would change nothing; say so instead of storing it.
                if key == "time_zone",
                    let rules = PublishedProgram.inForce(try await store.programs(), atMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))?
                        .program.earningRules, rules.timeZone != value
                {
                    throw CommandFailure(
                        code: "program_time_zone",
                        message: "the program in force counts days in \(rules.timeZone) (earning.time_zone), and so do the tills "
                            + "and every report; publish a program with time_zone \(value) to change it",
                        exitCode: 1)
                }
                return try await store.setAnalyticsSetting(key, to: value, actor: actor, now: Date())
            }
            Settings.print(settings, json: storage.json)
        }
    }

    /// Every setting; with `chainTimeZone`, also the zone days are counted in (the program's when it names one).
    static func print(_ settings: AnalyticsSettings, json: Bool, chainTimeZone: String? = nil) {
        var values = settings.values
        if let chainTimeZone { values.append(("chain_time_zone", chainTimeZone)) }
        if json {
            Output.out(Output.json(Dictionary(uniqueKeysWithValues: values.map { ($0.0, $0.1) })))
        } else {
            for (key, value) in values { Output.out("\(key)=\(value)") }
        }
    }
}
