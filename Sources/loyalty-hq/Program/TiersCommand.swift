import ArgumentParser
import Foundation
import HeadOffice
import LoyaltyCore

/// `loyalty-hq tiers review`: the only time a member moves down a tier.
struct Tiers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tier reviews: every member's tier recomputed from their 12-month spend or points (run monthly).",
        subcommands: [Review.self])

    /// What the review says when the program has percentile tiers it does not grant (too few members).
    static func percentileNote(_ facts: [MemberFacts], program: LoyaltyProgram) -> String? {
        let percentile = program.tiers.filter { $0.topPercent != nil }
        guard !percentile.isEmpty, !TierReview.grantsPercentileTiers(facts, program: program) else { return nil }
        let names = percentile.map { "\($0.name) (top \($0.topPercent ?? 0) %)" }.joined(separator: ", ")
        let ranked = TierReview.rankedMembers(facts, program: program)
        return "Percentile tiers not granted: \(names) need at least \(TierReview.minimumRankedMembersForPercentileTiers) "
            + "members with a 12-month figure, and \(ranked) have one; those tiers go by their thresholds only."
    }

    struct Review: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every member's tier as of a day and push the changes to the stores.",
            discussion: """
                A member's tier is the highest whose min_rolling_spend their net 12-month spend reaches (or, with \
                tiers_by: points, whose min_rolling_points their 12-month points earned reach), or whose top_percent \
                covers their rank by that figure (the program version in force on that day). Between reviews \
                tiers only go up (at once, at the till); a review is what moves a member down. Stores receive the \
                changed members with their next sync.
                """)
        @OptionGroup var asOf: AsOfOption
        @Option(help: "Who reviews, for the audit trail (default: the login name).") var by: String?
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let context = try await AnalyticsContext.load(storage, asOf: asOf.asOf)
            let actor = try OperatorInput.actor(by)
            // The program version in force at the end of the as-of day.
            let program = context.program
            let tiers = TierReview.tiers(context.facts, program: program)
            let changed = try await storage.withStore { store, _ in
                try await store.publishReviewedTiers(tiers, actor: actor, now: Date())
            }
            var counts: [String: Int] = [:]
            for tier in tiers.values { counts[tier, default: 0] += 1 }
            struct Body: Encodable {
                var asOf: String
                var programVersion: Int
                var changed: Int
                var tiers: [String: Int]
                /// Why the program's percentile tiers were not granted, when they were not.
                var percentileTiers: String?
            }
            let note = Tiers.percentileNote(context.facts, program: program)
            if storage.json {
                Output.out(
                    Output.json(
                        Body(
                            asOf: context.asOfText, programVersion: program.version, changed: changed, tiers: counts,
                            percentileTiers: note)))
            } else {
                let summary = program.tiers.map { "\($0.name) \(counts[$0.name] ?? 0)" }.joined(separator: ", ")
                Output.out(
                    "Tiers as of \(context.asOfText) (program version \(program.version)): \(summary). "
                        + "\(changed) members changed; stores receive them at their next sync."
                        + (note.map { "\n" + $0 } ?? ""))
            }
        }
    }
}
