/// A program version as head office writes it (`loyalty-hq program publish FILE`), before it has a
/// version number. ``program(version:)`` checks every rule and names the field that breaks one.
public struct ProgramDefinition: Hashable, Sendable {
    public struct TierDefinition: Hashable, Sendable {
        public var name: String
        /// Where the tier starts, in the definition's ``tierBasis``: rolling 12-month spend in minor
        /// units (`min_rolling_spend`), or rolling 12-month points earned (`min_rolling_points`).
        public var threshold: Int64
        public var earnMultiplierPercent: Int64
        /// Also reached at review by the top this-many percent of members by the same 12-month figure.
        public var topPercent: Int?
        /// 1-based line of the tier in the file, for messages (0 when unknown).
        public var line: Int
        /// What the tier's members enjoy besides the multiplier, in words (`benefits` in the file).
        public var benefits: [String] = []

        public init(
            name: String, threshold: Int64, earnMultiplierPercent: Int64, topPercent: Int? = nil, line: Int = 0
        ) {
            self.topPercent = topPercent
            self.name = name
            self.threshold = threshold
            self.earnMultiplierPercent = earnMultiplierPercent
            self.line = line
        }
    }

    /// Benefit lines a tier may list (they are shown whole at the till and on the kiosk).
    public static let maximumBenefitsPerTier = 10

    public var validFromMilliseconds: Int64
    public var currency: Currency
    public var pointsPerUnit: Int64
    public var rounding: Rounding
    public var tiers: [TierDefinition]
    /// What the tier thresholds count (`tiers_by` in the file).
    public var tierBasis: TierBasis = .spend
    public var pointValueMinor: Int64
    public var minimumRedemptionPoints: Int64
    public var redemptionStepPoints: Int64
    /// A redemption may pay at most this share (percent) of the sale; nil: no limit.
    public var maximumRedemptionSharePercent: Int64?
    /// Categories, promotions, birthday month, caps; nil or empty: the plain rate.
    public var earningRules: EarningRules?
    public var bonuses: ProgramBonuses?
    public var pointsExpireAfterDays: Int?
    public var coupons: [CouponRule] = []

    public init(
        validFromMilliseconds: Int64, currency: Currency, pointsPerUnit: Int64, rounding: Rounding, tiers: [TierDefinition],
        pointValueMinor: Int64, minimumRedemptionPoints: Int64, redemptionStepPoints: Int64
    ) {
        self.validFromMilliseconds = validFromMilliseconds
        self.currency = currency
        self.pointsPerUnit = pointsPerUnit
        self.rounding = rounding
        self.tiers = tiers
        self.pointValueMinor = pointValueMinor
        self.minimumRedemptionPoints = minimumRedemptionPoints
        self.redemptionStepPoints = redemptionStepPoints
    }

    /// The checked program with its version number.
    public func program(version: Int) throws(LoyaltyError) -> LoyaltyProgram {
        func bad(_ field: String, line: Int = 0, _ why: String) -> LoyaltyError {
            .badInput("bad_program", (line > 0 ? "line \(line): " : "") + "\(field): \(why)")
        }
        guard (0...1_000).contains(pointsPerUnit) else { throw bad("earning.points_per_unit", "must be 0 to 1000") }
        guard (1...1_000_000).contains(pointValueMinor) else { throw bad("redemption.point_value_minor", "must be 1 to 1000000") }
        guard (1...10_000_000).contains(minimumRedemptionPoints) else {
            throw bad("redemption.minimum_points", "must be 1 to 10000000")
        }
        guard (1...10_000_000).contains(redemptionStepPoints) else { throw bad("redemption.step_points", "must be 1 to 10000000") }
        let thresholdField = tierBasis == .points ? "min_rolling_points" : "min_rolling_spend"
        guard !tiers.isEmpty else { throw bad("tiers", "at least one tier is needed, the first at \(thresholdField) 0") }
        guard tiers[0].threshold == 0 else {
            throw bad("tiers[0].\(thresholdField)", line: tiers[0].line, "the first tier starts at 0")
        }
        var names = Set<String>()
        for (index, tier) in tiers.enumerated() {
            guard (1...32).contains(tier.name.count),
                tier.name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_" || $0 == "-") })
            else {
                throw bad("tiers[\(index)].name", line: tier.line, "must be 1 to 32 lower-case letters, digits, '-' or '_'")
            }
            guard names.insert(tier.name).inserted else {
                throw bad("tiers[\(index)].name", line: tier.line, "'\(tier.name)' is used twice")
            }
            guard (100...1_000).contains(tier.earnMultiplierPercent) else {
                throw bad("tiers[\(index)].earn_multiplier_percent", line: tier.line, "must be 100 to 1000")
            }
            let unit = tierBasis == .points ? "points" : "minor units"
            guard (0...Money.maximumMinorUnits).contains(tier.threshold) else {
                throw bad(
                    "tiers[\(index)].\(thresholdField)", line: tier.line,
                    "must be 0 or more and at most \(Money.maximumMinorUnits) \(unit)")
            }
            if let percent = tier.topPercent, !(1...100).contains(percent) || index == 0 {
                throw bad(
                    "tiers[\(index)].top_percent", line: tier.line,
                    index == 0 ? "the first tier is everyone's; give top_percent to a higher tier" : "must be 1 to 100")
            }
            guard tier.benefits.count <= Self.maximumBenefitsPerTier else {
                throw bad("tiers[\(index)].benefits", line: tier.line, "at most \(Self.maximumBenefitsPerTier) benefits per tier")
            }
            if let benefit = tier.benefits.first(where: { !(1...80).contains($0.count) || $0.contains(where: \.isNewline) }) {
                throw bad(
                    "tiers[\(index)].benefits", line: tier.line,
                    "'\(benefit.prefix(40))': each benefit is one line of 1 to 80 characters")
            }
            if index > 0, tier.threshold <= tiers[index - 1].threshold {
                throw bad(
                    "tiers[\(index)].\(thresholdField)", line: tier.line,
                    "tiers must be ordered by rising \(thresholdField)")
            }
        }
        var program = LoyaltyProgram(
            version: version, currency: currency, pointsPerMajorUnit: pointsPerUnit, rounding: rounding,
            tiers: tiers.map {
                Tier(
                    name: $0.name, threshold: $0.threshold,
                    earnMultiplierPercent: $0.earnMultiplierPercent, topPercent: $0.topPercent, benefits: $0.benefits)
            },
            pointValueMinorUnits: pointValueMinor, minimumRedemptionPoints: minimumRedemptionPoints,
            redemptionStepPoints: redemptionStepPoints)
        if let share = maximumRedemptionSharePercent, !(1...100).contains(share) {
            throw bad("redemption.max_share_percent", "must be 1 to 100")
        }
        program.validFromMilliseconds = validFromMilliseconds
        program.tierBasis = tierBasis == .points ? .points : nil
        program.maximumRedemptionSharePercent = maximumRedemptionSharePercent
        if let rules = earningRules {
            for (category, percent) in rules.categoryMultiplierPercent where !(0...1_000).contains(percent) {
                throw bad("earning.category_multipliers.\(category)", "must be 0 to 1000")
            }
            // A category cannot both earn nothing and earn a multiple: the file contradicts itself.
            if let both = rules.categoryMultiplierPercent.keys.sorted().first(where: rules.excludedCategories.contains) {
                throw bad("earning.category_multipliers.\(both)", "'\(both)' is also in excluded_categories; keep it in one of them")
            }
            if let percent = rules.birthdayMonthMultiplierPercent, !(100...1_000).contains(percent) {
                throw bad("earning.birthday_month_multiplier_percent", "must be 100 to 1000")
            }
            for (index, promotion) in rules.promotions.enumerated() {
                guard (100...1_000).contains(promotion.multiplierPercent) else {
                    throw bad("promotions[\(index)].multiplier_percent", "must be 100 to 1000")
                }
                if let unknown = promotion.tiers.first(where: { name in !tiers.contains { $0.name == name } }) {
                    throw bad("promotions[\(index)].tiers", "'\(unknown)' is not one of this version's tiers")
                }
                if let unknown = promotion.segments.first(where: { MemberFlag(rawValue: $0) == nil }) {
                    throw bad(
                        "promotions[\(index)].segments",
                        "'\(unknown)' is not a segment; the segments are \(MemberFlag.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                if let from = promotion.fromDay, let until = promotion.untilDay, from > until {
                    throw bad("promotions[\(index)].until", "is before from")
                }
                if let from = promotion.fromHour, let until = promotion.untilHour, from >= until {
                    throw bad("promotions[\(index)].hours", "the first hour must come before the last")
                }
            }
            // The time zone alone is a rule: the chain's days (found by attack: a program giving only a time zone
            // published with it dropped, and every day counted in UTC).
            program.earningRules = rules.isEmpty && rules.timeZone == "UTC" ? nil : rules
        }
        if let bonuses {
            for (field, points) in [
                ("bonuses.enrolment_points", bonuses.enrolmentPoints), ("bonuses.first_purchase_points", bonuses.firstPurchasePoints),
                ("bonuses.referral_points", bonuses.referralPoints),
            ] where !(0...ProgramBonuses.maximumPoints).contains(points) {
                throw bad(field, "must be 0 to \(ProgramBonuses.maximumPoints)")
            }
            program.bonuses = bonuses.isEmpty ? nil : bonuses
        }
        if let days = pointsExpireAfterDays, !(30...3_650).contains(days) {
            throw bad("expiry.after_days", "must be 30 to 3650 days")
        }
        program.pointsExpireAfterDays = pointsExpireAfterDays
        var couponNames = Set<String>()
        for (index, rule) in coupons.enumerated() {
            guard (1...24).contains(rule.name.count),
                rule.name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") })
            else {
                throw bad("coupons[\(index)].name", "must be 1 to 24 lower-case letters, digits or '_'")
            }
            guard couponNames.insert(rule.name).inserted else { throw bad("coupons[\(index)].name", "'\(rule.name)' is used twice") }
            guard (1...Money.maximumMinorUnits).contains(rule.discountMinor) else {
                throw bad("coupons[\(index)].discount", "must be above zero")
            }
            guard (1...3_650).contains(rule.validDays) else { throw bad("coupons[\(index)].valid_days", "must be 1 to 3650") }
            if case .earlyVisits(let visits, let days) = rule.trigger, !(1...100).contains(visits) || !(1...365).contains(days) {
                throw bad("coupons[\(index)].when", "visits must be 1 to 100 and within_days 1 to 365")
            }
        }
        program.coupons = coupons.isEmpty ? nil : coupons
        return program
    }
}
