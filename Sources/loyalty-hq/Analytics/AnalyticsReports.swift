import Foundation
import HeadOffice
import LoyaltyCore

/// The segment and model reports of `loyalty-hq report`.
enum AnalyticsReports {
    static func rfm(_ context: AnalyticsContext) -> ReportTable {
        let scores = RFMAnalysis.scores(context.facts, asOfDay: context.asOfDay, settings: context.settings)
        struct Summary: Encodable {
            var n: Int
            var segments: [String: Int]
        }
        /// The score with its spend as money too: JSON, CSV and the table name every figure alike.
        struct Member: Encodable {
            var score: RFMScore
            var monetary: String

            func encode(to encoder: any Encoder) throws {
                try score.encode(to: encoder)
                var container = encoder.container(keyedBy: Keys.self)
                try container.encode(monetary, forKey: .monetary)
            }

            enum Keys: String, CodingKey { case monetary }
        }
        struct Body: Encodable {
            var report = "rfm"
            var asOf: String
            var members: [Member]
            var summary: Summary
        }
        let segments = Dictionary(grouping: scores, by: \.segment.rawValue).mapValues(\.count)
        let members = scores.map { Member(score: $0, monetary: context.money($0.monetaryMinor)) }
        return ReportTable(
            title: "members with a sale in the 365 days to \(context.asOfText)",
            header: [
                "card", "recency_days", "frequency", "monetary", "recency_score", "frequency_score", "monetary_score", "segment",
            ],
            rows: scores.map {
                [
                    $0.card, String($0.recencyDays), String($0.frequency), context.money($0.monetaryMinor), String($0.recencyScore),
                    String($0.frequencyScore), String($0.monetaryScore), $0.segment.rawValue,
                ]
            },
            json: Output.json(Body(asOf: context.asOfText, members: members, summary: Summary(n: scores.count, segments: segments))),
            summaryLine: "\(scores.count) members scored as of \(context.asOfText): "
                + RFMSegment.allCases.map { "\($0.rawValue) \(segments[$0.rawValue] ?? 0)" }.joined(separator: ", "))
            .withMoney(["monetary"], context.settings.currency.code)
    }

    static func lifecycle(_ context: AnalyticsContext) -> ReportTable {
        let stages = LifecycleAnalysis.stages(context.facts, asOfDay: context.asOfDay, settings: context.settings)
        let counts = Dictionary(grouping: stages, by: \.stage.rawValue).mapValues(\.count)
        struct Body: Encodable {
            var report = "lifecycle"
            var asOf: String
            var members: [MemberStage]
            var summary: [String: Int]
        }
        return ReportTable(
            title: "members on \(context.asOfText)",
            header: ["card", "stage", "days_since_last_sale", "days_since_enrolment", "last_store"],
            rows: stages.map {
                [$0.card, $0.stage.rawValue, $0.daysSinceLastSale.map(String.init) ?? "", String($0.daysSinceEnrolment), $0.lastStore ?? ""]
            },
            json: Output.json(Body(asOf: context.asOfText, members: stages, summary: counts)),
            summaryLine: "\(stages.count) members as of \(context.asOfText): "
                + LifecycleStage.allCases.map { "\($0.rawValue) \(counts[$0.rawValue] ?? 0)" }.joined(separator: ", "))
    }

    static func superUsers(_ context: AnalyticsContext) -> ReportTable {
        let result = SuperUsers(context.facts, settings: context.settings)
        struct Summary: Encodable {
            var k: Int
            var n: Int
            var memberShare: Double
            var share: Double
            var totalMinor: Int64
            var targetPercent: Int
        }
        struct Body: Encodable {
            var report = "super-users"
            var asOf: String
            var members: [SuperUsers.Member]
            var summary: Summary
        }
        return ReportTable(
            title: "super users (no spend in the 365 days to \(context.asOfText))",
            header: ["rank", "card", "monetary", "cumulative_share"],
            rows: result.members.enumerated().map {
                [String($0.offset + 1), $0.element.card, context.money($0.element.monetaryMinor), ReportTable.decimal($0.element.cumulativeShare)]
            },
            json: Output.json(Body(
                asOf: context.asOfText, members: result.members,
                summary: Summary(
                    k: result.k, n: result.n, memberShare: result.memberShare, share: result.share, totalMinor: result.totalMinor,
                    targetPercent: context.settings.superUserSharePercent))),
            summaryLine: "\(result.k) of \(result.n) members (\(ReportTable.decimal(result.memberShare * 100, digits: 1)) %) carry "
                + "\(ReportTable.decimal(result.share * 100, digits: 2)) % of the spend in the 365 days to \(context.asOfText).")
            .withMoney(["monetary"], context.settings.currency.code)
    }

    static func lifetimeValue(_ context: AnalyticsContext, churnOnly: Bool) throws -> ReportTable {
        let report: LifetimeValueReport
        do {
            report = try LifetimeValueReport(context.facts, asOfDay: context.asOfDay, settings: context.settings)
        } catch where error.code == "not_enough_history" {
            // Said for an operator, not a statistician: what is missing and how to get it.
            let buyers = context.facts.filter { $0.sales > 0 }.count
            let returning = context.facts.filter { $0.sales > 1 }.count
            throw CommandFailure(
                code: error.code,
                message: "lifetime value and churn are estimated from how often members come back: that needs at least "
                    + "two members with sales, one of them with two sales or more; head office holds \(buyers) member(s) "
                    + "with sales, \(returning) with more than one. Import past sales (`loyalty-hq import FILE`) or run "
                    + "the report again when more members have come back",
                exitCode: 1)
        } catch {
            throw CommandFailure(code: error.code, message: error.message, exitCode: 1)
        }
        let members = churnOnly ? report.churnWarnings(settings: context.settings) : report.members
        struct Summary: Encodable {
            var r, alpha, a, b: Double
            var p, q, gamma: Double
            var margin: Double
            var horizonWeeks: Int
            var members: Int
            var totalClv: Double
            var churnThreshold: Double
        }
        struct Body: Encodable {
            var report: String
            var asOf: String
            var members: [LifetimeValueReport.Member]
            var summary: Summary
        }
        let summary = Summary(
            r: report.purchases.r, alpha: report.purchases.alpha, a: report.purchases.a, b: report.purchases.b, p: report.spend.p,
            q: report.spend.q, gamma: report.spend.gamma, margin: context.settings.margin,
            horizonWeeks: context.settings.lifetimeHorizonWeeks, members: members.count,
            totalClv: members.reduce(0) { $0 + $1.clv }, churnThreshold: context.settings.churnProbabilityAlive)
        let title = churnOnly ? "members whose visit rhythm broke" : "members with a sale"
        return ReportTable(
            title: title,
            header: ["card", "sales", "p_alive", "expected_sales", "expected_sale_value", "clv"],
            rows: members.map {
                [
                    $0.card, String($0.sales), ReportTable.decimal($0.pAlive), ReportTable.decimal($0.expectedSales),
                    ReportTable.decimal($0.expectedSaleValue, digits: 2), ReportTable.decimal($0.clv, digits: 2),
                ]
            },
            json: Output.json(Body(report: churnOnly ? "churn" : "clv", asOf: context.asOfText, members: members, summary: summary)),
            summaryLine: churnOnly
                ? "\(members.count) members with at least two sales have P(alive) below \(context.settings.churnProbabilityAlive)."
                : "\(members.count) members; lifetime value over \(context.settings.lifetimeHorizonWeeks) weeks at margin "
                    + "\(context.settings.margin): \(ReportTable.decimal(summary.totalClv, digits: 2)) \(context.settings.currencyCode).")
            .withMoney(["expected_sale_value", "clv"], context.settings.currency.code)
    }

    static func loyaltyTypes(_ context: AnalyticsContext) -> ReportTable {
        let types = LoyaltyTypeAnalysis.types(context.facts, asOfDay: context.asOfDay, settings: context.settings)
        let counts = Dictionary(grouping: types, by: \.type.rawValue).mapValues(\.count)
        struct Body: Encodable {
            var report = "loyalty-types"
            var asOf: String
            var members: [MemberLoyalty]
            var summary: [String: Int]
        }
        return ReportTable(
            title: "members on \(context.asOfText)",
            header: ["card", "type", "behaviour_high", "attitude_high", "engagement"],
            rows: types.map { [$0.card, $0.type.rawValue, String($0.behaviourHigh), String($0.attitudeHigh), String($0.engagement)] },
            json: Output.json(Body(asOf: context.asOfText, members: types, summary: counts)),
            summaryLine: LoyaltyType.allCases.map { "\($0.rawValue) \(counts[$0.rawValue] ?? 0)" }.joined(separator: ", "))
    }

    /// Members per tier as a review on the as-of date would give them (net 12-month spend and
    /// percentile tiers, under the program version in force then), beside the tiers they hold now (the
    /// dashboard's figures: upgrades count at once, downgrades wait for the review).
    static func tiers(_ context: AnalyticsContext, heldNow: [String: Int]) -> ReportTable {
        let program = context.program
        let reviewed = TierReview.tiers(context.facts, program: program)
        struct Member: Encodable {
            var card: String
            var tier: String
            var rollingSpendMinor: Int64
            /// Present when the program's tiers count points.
            var rollingPointsEarned: Int64?
        }
        let members = context.facts.map {
            Member(
                card: $0.card, tier: reviewed[$0.memberId] ?? program.tiers[0].name, rollingSpendMinor: $0.windowSpendMinorUnits,
                rollingPointsEarned: program.tiersCountPoints ? $0.windowPointsEarned : nil)
        }
        let counts = Dictionary(grouping: members, by: \.tier).mapValues(\.count)
        struct Body: Encodable {
            var report = "tiers"
            var asOf: String
            var members: [Member]
            /// Members per tier by a review on the as-of date.
            var summary: [String: Int]
            /// Members per tier they hold now, as the dashboard counts them.
            var heldNow: [String: Int]
        }
        return ReportTable(
            title: "tiers",
            header: ["tier", "members", "share", "held_now"],
            rows: program.tiers.map {
                let count = counts[$0.name] ?? 0
                return [
                    $0.name, String(count), ReportTable.decimal(members.isEmpty ? 0 : Double(count) / Double(members.count)),
                    String(heldNow[$0.name] ?? 0),
                ]
            },
            json: Output.json(Body(asOf: context.asOfText, members: members, summary: counts, heldNow: heldNow)),
            summaryLine:
                "\(members.count) members by \(program.tiersCountPoints ? "points earned" : "spend") in the 365 days to "
                + "\(context.asOfText) (program version \(program.version)), as a review that day would place them; "
                + "held_now is the tier each holds today, as the tills and the dashboard show it (upgrades at once, "
                + "downgrades at the next review).")
    }

    /// Dormant members with their last store and visit: whom to win back, and where.
    static func winBack(_ context: AnalyticsContext) -> ReportTable {
        let dormant = context.facts.filter {
            LifecycleAnalysis.stage($0, asOfDay: context.asOfDay, settings: context.settings) == .dormant && $0.lastSaleDay != nil
        }
        struct Member: Encodable {
            var card: String
            var name: String?
            var lastSale: String
            var daysSinceLastSale: Int
            var lastStore: String
            var sales: Int
        }
        let members = dormant.map {
            Member(
                card: $0.card, name: $0.name, lastSale: ChainCalendar.string(day: $0.lastSaleDay!),
                daysSinceLastSale: context.asOfDay - $0.lastSaleDay!, lastStore: $0.lastSaleStore ?? "", sales: $0.sales)
        }
        struct Body: Encodable {
            var report = "win-back"
            var asOf: String
            var members: [Member]
        }
        return ReportTable(
            title: "dormant members",
            header: ["card", "name", "last_sale", "days_since_last_sale", "last_store", "sales"],
            rows: members.map { [$0.card, $0.name ?? "", $0.lastSale, String($0.daysSinceLastSale), $0.lastStore, String($0.sales)] },
            json: Output.json(Body(asOf: context.asOfText, members: members)),
            summaryLine: "\(members.count) dormant members to win back as of \(context.asOfText).")
    }
}
