/// A member level reached by rolling 12-month spend, with its earn multiplier.
public struct Tier: Hashable, Sendable, Codable {
    /// A short stable name, e.g. `silver`.
    public var name: String
    /// Rolling 12-month spend (minor units) at which a member reaches this tier.
    public var minimumRollingSpendMinorUnits: Int64
    /// Earn multiplier in percent: 100 earns the base rate, 200 earns double.
    public var earnMultiplierPercent: Int64

    public init(name: String, minimumRollingSpendMinorUnits: Int64, earnMultiplierPercent: Int64) {
        self.name = name
        self.minimumRollingSpendMinorUnits = minimumRollingSpendMinorUnits
        self.earnMultiplierPercent = earnMultiplierPercent
    }
}
