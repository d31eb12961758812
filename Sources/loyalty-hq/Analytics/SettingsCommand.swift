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
            let settings = try await storage.withStore { store, _ in try await store.analyticsSettings() }
            Settings.print(settings, json: storage.json)
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
                try await store.setAnalyticsSetting(key, to: value, actor: actor, now: Date())
            }
            Settings.print(settings, json: storage.json)
        }
    }

    static func print(_ settings: AnalyticsSettings, json: Bool) {
        if json {
            Output.out(Output.json(Dictionary(uniqueKeysWithValues: settings.values.map { ($0.key, $0.value) })))
        } else {
            for (key, value) in settings.values { Output.out("\(key)=\(value)") }
        }
    }
}
