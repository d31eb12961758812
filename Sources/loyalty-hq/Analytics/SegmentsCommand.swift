import ArgumentParser
import Foundation
import HeadOffice
import LoyaltyCore

/// `loyalty-hq segments publish`: the flags a cashier sees at the till, pushed down with the members.
struct Segments: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish each member's segment flags to the tills (run daily, e.g. from a systemd timer).",
        subcommands: [Publish.self])

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compute every member's flags as of a day and push the changed ones to the stores.",
            discussion: """
                Flags: new_member (enrolled in the last new_member_days days), at_risk, welcome_back (dormant or \
                churned), super_user, churn_risk (at least two sales and P(alive) below churn_probability_alive; \
                only when the lifetime-value models can be fitted). Stores receive the members whose flags \
                changed at their next sync; the cashier sees them with the member at the till.
                """)
        @OptionGroup var asOf: AsOfOption
        @Option(help: "Who publishes, for the audit trail (default: the login name).") var by: String?
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let context = try await AnalyticsContext.load(storage, asOf: asOf.asOf)
            // Flags reach the tills and drive promotions today: a day that has not come would flag members
            // by a future (a 300 % welcome-back for everyone).
            guard context.asOfDay <= context.calendar.today() else {
                throw CommandFailure(
                    code: "future_date",
                    message: "--as-of \(context.asOfText) is in the future: flags are published as of a day that has come", exitCode: 2)
            }
            let churn = (try? LifetimeValueReport(context.facts, asOfDay: context.asOfDay, settings: context.settings))
                .map { Set($0.churnWarnings(settings: context.settings).map(\.card)) }
            let flags = MemberFlags.flags(
                context.facts, asOfDay: context.asOfDay, settings: context.settings, churnWarnings: churn ?? [])
            let actor = try OperatorInput.actor(by)
            let published = flags.mapValues { $0.map(\.rawValue) }
            let changed = try await storage.withStore { store, _ in
                try await store.publishFlags(published, actor: actor, now: Date())
            }
            var counts: [String: Int] = [:]
            for memberFlags in flags.values { for flag in memberFlags { counts[flag.rawValue, default: 0] += 1 } }
            struct Body: Encodable {
                var asOf: String
                var changed: Int
                var flags: [String: Int]
                var churnModelFitted: Bool
            }
            if storage.json {
                Output.out(Output.json(Body(asOf: context.asOfText, changed: changed, flags: counts, churnModelFitted: churn != nil)))
            } else {
                let summary = MemberFlag.allCases.map { "\($0.rawValue) \(counts[$0.rawValue] ?? 0)" }.joined(separator: ", ")
                Output.out("Flags as of \(context.asOfText): \(summary). \(changed) members changed; stores receive them at their next sync.")
                if churn == nil { Output.out("churn_risk not computed: too little history to fit the lifetime-value models.") }
            }
        }
    }
}
