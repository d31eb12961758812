/// RFM scores and named segments of the members with at least one sale in the window.
///
/// Recency R is days since the last sale, frequency F the window's sales, monetary M the window's net
/// spend. Each score is `1 + floor(5 × w / n)`, where `w` counts the other members no better on that
/// dimension (as many days or more; as few sales or fewer; as little spend or less) and `n` the members
/// scored: ties share the better score (in a small chain, ten members who each bought once are not all
/// the least frequent buyers).
public struct RFMScore: Hashable, Sendable, Codable {
    public var card: String
    public var recencyDays: Int
    public var frequency: Int
    public var monetaryMinor: Int64
    public var recencyScore: Int
    public var frequencyScore: Int
    public var monetaryScore: Int
    public var segment: RFMSegment
}

/// Named RFM segments, first match in declaration order.
public enum RFMSegment: String, Hashable, Sendable, Codable, CaseIterable {
    /// R, F and M all ≥ 4.
    case champions
    /// F ≥ 4 and R ≥ 3.
    case loyal
    /// R ≤ 2 and F ≥ 3.
    case atRisk = "at_risk"
    /// R ≤ 2 and F ≤ 2.
    case hibernating
    /// First sale at most `newMemberDays` before the as-of date.
    case new
    case needsAttention = "needs_attention"
}

public enum RFMAnalysis {
    /// Scores every member with a sale in the window, ordered by card.
    public static func scores(_ members: [MemberFacts], asOfDay: Int, settings: AnalyticsSettings) -> [RFMScore] {
        let scored = members.filter { $0.windowSales > 0 && $0.lastSaleDay != nil }
        let n = scored.count
        guard n > 0 else { return [] }
        let recencies = scored.map { asOfDay - $0.lastSaleDay! }.sorted()
        let frequencies = scored.map(\.windowSales).sorted()
        let spends = scored.map(\.windowSpendMinorUnits).sorted()
        func score(_ worse: Int) -> Int { 1 + (5 * worse) / n }
        return scored.map { member in
            let recency = asOfDay - member.lastSaleDay!
            // The others no better: as many days since the last sale or more; as few sales or fewer; as
            // little spend or less (the member itself taken out).
            let r = score(n - lowerBound(recencies, recency) - 1)
            let f = score(upperBound(frequencies, member.windowSales) - 1)
            let m = score(upperBound(spends, member.windowSpendMinorUnits) - 1)
            let isNew = asOfDay - member.firstSaleDay! <= settings.newMemberDays
            return RFMScore(
                card: member.card, recencyDays: recency, frequency: member.windowSales,
                monetaryMinor: member.windowSpendMinorUnits, recencyScore: r, frequencyScore: f, monetaryScore: m,
                segment: segment(r: r, f: f, m: m, isNew: isNew))
        }.sorted { $0.card < $1.card }
    }

    public static func segment(r: Int, f: Int, m: Int, isNew: Bool) -> RFMSegment {
        if r >= 4 && f >= 4 && m >= 4 { return .champions }
        if f >= 4 && r >= 3 { return .loyal }
        if r <= 2 && f >= 3 { return .atRisk }
        if r <= 2 && f <= 2 { return .hibernating }
        if isNew { return .new }
        return .needsAttention
    }

    /// Index of the first element not less than `value` (= how many are smaller).
    static func lowerBound<T: Comparable>(_ sorted: [T], _ value: T) -> Int {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Index of the first element greater than `value` (= how many are smaller or equal).
    static func upperBound<T: Comparable>(_ sorted: [T], _ value: T) -> Int {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] <= value { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
