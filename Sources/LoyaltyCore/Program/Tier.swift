/// A member level reached by rolling 12-month spend or points earned, with its earn multiplier.
public struct Tier: Hashable, Sendable, Codable {
    /// A short stable name, e.g. `silver`.
    public var name: String
    /// Where the tier starts, in the program's ``LoyaltyProgram/tierBasis``: minor units of rolling
    /// 12-month spend, or rolling 12-month points earned.
    public var threshold: Int64
    /// Earn multiplier in percent: 100 earns the base rate, 200 earns double.
    public var earnMultiplierPercent: Int64
    /// Also reached, at head office's review, by the top this-many percent of members by the same
    /// 12-month figure (a percentile tier); nil: by the threshold only.
    public var topPercent: Int?
    /// What members of this tier enjoy besides the multiplier, in words for the cashier and the kiosk
    /// (e.g. "free delivery"); empty: none.
    public var benefits: [String]

    public init(
        name: String, threshold: Int64, earnMultiplierPercent: Int64, topPercent: Int? = nil, benefits: [String] = []
    ) {
        self.topPercent = topPercent
        self.benefits = benefits
        self.name = name
        self.threshold = threshold
        self.earnMultiplierPercent = earnMultiplierPercent
    }

    enum CodingKeys: String, CodingKey {
        case name, threshold, earnMultiplierPercent, topPercent, benefits
        /// The threshold's name before tiers could count points: program versions stored then use it.
        case minimumRollingSpendMinorUnits
    }

    /// Set (to `true`) by ``LoyaltyProgram/document()`` for a program whose tiers count spend.
    static let writesSpendThresholdUnderItsFormerName = CodingUserInfoKey(
        rawValue: "writesSpendThresholdUnderItsFormerName")!

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        threshold =
            try container.decodeIfPresent(Int64.self, forKey: .threshold)
            ?? container.decode(Int64.self, forKey: .minimumRollingSpendMinorUnits)
        earnMultiplierPercent = try container.decode(Int64.self, forKey: .earnMultiplierPercent)
        topPercent = try container.decodeIfPresent(Int.self, forKey: .topPercent)
        benefits = try container.decodeIfPresent([String].self, forKey: .benefits) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(threshold, forKey: .threshold)
        if encoder.userInfo[Self.writesSpendThresholdUnderItsFormerName] as? Bool == true {
            try container.encode(threshold, forKey: .minimumRollingSpendMinorUnits)
        }
        try container.encode(earnMultiplierPercent, forKey: .earnMultiplierPercent)
        try container.encodeIfPresent(topPercent, forKey: .topPercent)
        if !benefits.isEmpty { try container.encode(benefits, forKey: .benefits) }
    }
}
