/// A member level reached by rolling 12-month spend, with its earn multiplier.
public struct Tier: Hashable, Sendable, Codable {
    /// A short stable name, e.g. `silver`.
    public var name: String
    /// Rolling 12-month spend (minor units) at which a member reaches this tier.
    public var minimumRollingSpendMinorUnits: Int64
    /// Earn multiplier in percent: 100 earns the base rate, 200 earns double.
    public var earnMultiplierPercent: Int64
    /// Also reached, at head office's review, by the top this-many percent of members by 12-month
    /// spend (a percentile tier); nil: by the spend threshold only.
    public var topPercent: Int?

    public init(name: String, minimumRollingSpendMinorUnits: Int64, earnMultiplierPercent: Int64, topPercent: Int? = nil) {
        self.topPercent = topPercent
        self.name = name
        self.minimumRollingSpendMinorUnits = minimumRollingSpendMinorUnits
        self.earnMultiplierPercent = earnMultiplierPercent
    }
}
