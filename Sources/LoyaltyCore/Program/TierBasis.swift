/// What a program's tier thresholds count over the rolling 12 months.
public enum TierBasis: String, Hashable, Sendable, Codable, CaseIterable {
    /// Net spend in minor units: sales less their refunds.
    case spend
    /// Points earned: earn and bonus entries less the earned points refunds took back. Redemptions,
    /// expiry and manual adjustments do not count: they change the balance, not what was earned.
    case points

    /// ``points`` as SQL over an entry's `kind` and `points` columns, for the ledger and head office
    /// alike: earn and bonus entries, less the earned points a refund takes back (a reversal that
    /// restores redeemed points is positive and does not count).
    public static let pointsEarnedSQL =
        "CASE WHEN kind IN ('earn', 'bonus') OR (kind = 'reverse' AND points < 0) THEN points ELSE 0 END"
}

/// A member's rolling 12-month figures, on which a tier is decided.
public struct TierProgress: Hashable, Sendable {
    public var spendMinorUnits: Int64
    public var pointsEarned: Int64

    public init(spendMinorUnits: Int64, pointsEarned: Int64) {
        self.spendMinorUnits = spendMinorUnits
        self.pointsEarned = pointsEarned
    }
}
