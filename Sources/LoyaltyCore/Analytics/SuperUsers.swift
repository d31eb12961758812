/// The "super users": the smallest group of top spenders who carry the set share of all spend.
public struct SuperUsers: Hashable, Sendable, Codable {
    public struct Member: Hashable, Sendable, Codable {
        public var card: String
        public var monetaryMinor: Int64
        /// Share of all window spend carried by this member and everyone ranked above.
        public var cumulativeShare: Double
    }

    /// Members ranked by window spend, descending (ties by card), the first ``k`` of them.
    public var members: [Member]
    /// The size of the group.
    public var k: Int
    /// Members with at least one sale in the window.
    public var n: Int
    /// `k / n`.
    public var memberShare: Double
    /// The exact share of all window spend the group carries.
    public var share: Double
    public var totalMinor: Int64

    /// Ranks members by window spend and takes the smallest top `k` whose cumulative spend reaches
    /// `settings.superUserSharePercent` % of the total.
    public init(_ facts: [MemberFacts], settings: AnalyticsSettings) {
        let ranked = facts.filter { $0.windowSales > 0 }.sorted {
            $0.windowSpendMinorUnits != $1.windowSpendMinorUnits
                ? $0.windowSpendMinorUnits > $1.windowSpendMinorUnits : $0.card < $1.card
        }
        let total = ranked.reduce(Int64(0)) { $0 + $1.windowSpendMinorUnits }
        var cumulative: Int64 = 0
        var group: [Member] = []
        if total > 0 {
            for member in ranked {
                cumulative += member.windowSpendMinorUnits
                group.append(Member(
                    card: member.card, monetaryMinor: member.windowSpendMinorUnits,
                    cumulativeShare: Double(cumulative) / Double(total)))
                // Exact in integers, full width so no total can overflow: cumulative / total ≥ percent / 100.
                let reached = cumulative.multipliedFullWidth(by: 100)
                let target = total.multipliedFullWidth(by: Int64(settings.superUserSharePercent))
                if (reached.high, reached.low) >= (target.high, target.low) { break }
            }
        }
        members = group
        k = group.count
        n = ranked.count
        memberShare = n == 0 ? 0 : Double(k) / Double(n)
        share = total == 0 ? 0 : Double(cumulative) / Double(total)
        totalMinor = total
    }
}
