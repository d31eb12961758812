/// One version of the program's rules: how sales earn points, the tiers, and how points redeem.
///
/// Pure data plus pure functions; head office pushes new versions and every ledger entry records
/// the ``version`` that produced it.
public struct LoyaltyProgram: Hashable, Sendable, Codable {
    /// Rises by one with every change head office makes.
    public var version: Int
    public var currency: Currency
    /// Points earned per whole major unit spent (before the tier multiplier).
    public var pointsPerMajorUnit: Int64
    public var rounding: Rounding
    /// Ordered by ``Tier/threshold``, the first at zero.
    public var tiers: [Tier]
    /// What the tier thresholds count; nil: spend (versions published before tiers could count points).
    public var tierBasis: TierBasis?
    /// Discount value of one point, in minor units.
    public var pointValueMinorUnits: Int64
    /// The smallest redemption accepted.
    public var minimumRedemptionPoints: Int64
    /// Redemptions are whole multiples of this.
    public var redemptionStepPoints: Int64
    /// When stores switch to this version (milliseconds since 1970, UTC); nil: from the start.
    public var validFromMilliseconds: Int64?
    /// A redemption's discount may be at most this share of the sale (percent); nil: no limit.
    public var maximumRedemptionSharePercent: Int64?
    /// Categories, promotions, the birthday month and caps; nil: the plain rate × the tier multiplier.
    public var earningRules: EarningRules?
    /// Enrolment, first-purchase and referral bonuses; nil: none.
    public var bonuses: ProgramBonuses?
    /// Points lapse this many days after they were earned, oldest first (decided at head office by
    /// `loyalty-hq expire`); nil: points never expire.
    public var pointsExpireAfterDays: Int?
    /// Coupons issued by rules (a welcome coupon, an offer for high-potential new members); nil: none.
    public var coupons: [CouponRule]?
    /// The chain's key for coupon codes (set by head office at publish, the same in every version): a
    /// code is made from it and the member, so nobody can work a member's code out from their card.
    public var couponKey: String?

    public init(
        version: Int, currency: Currency, pointsPerMajorUnit: Int64, rounding: Rounding, tiers: [Tier],
        pointValueMinorUnits: Int64, minimumRedemptionPoints: Int64, redemptionStepPoints: Int64
    ) {
        precondition(!tiers.isEmpty && tiers[0].threshold == 0, "the first tier starts at zero")
        precondition(zip(tiers, tiers.dropFirst()).allSatisfy { $0.threshold < $1.threshold }, "tiers are ordered by rising threshold")
        precondition(pointsPerMajorUnit >= 0 && pointValueMinorUnits > 0 && minimumRedemptionPoints > 0 && redemptionStepPoints > 0)
        self.version = version
        self.currency = currency
        self.pointsPerMajorUnit = pointsPerMajorUnit
        self.rounding = rounding
        self.tiers = tiers
        self.pointValueMinorUnits = pointValueMinorUnits
        self.minimumRedemptionPoints = minimumRedemptionPoints
        self.redemptionStepPoints = redemptionStepPoints
    }

    /// The default program: 1 point per whole currency unit, rounded down; tiers base, silver, gold,
    /// top at 0, 500, 1,500 and 5,000 units of rolling 12-month spend (all earning the base rate
    /// until head office pushes multipliers); one point is worth one minor unit.
    public static func standard(currency: Currency = .euro) -> LoyaltyProgram {
        let unit = currency.minorUnitsPerMajor
        return LoyaltyProgram(
            version: 1, currency: currency, pointsPerMajorUnit: 1, rounding: .down,
            tiers: [
                Tier(name: "base", threshold: 0, earnMultiplierPercent: 100),
                Tier(name: "silver", threshold: 500 * unit, earnMultiplierPercent: 100),
                Tier(name: "gold", threshold: 1_500 * unit, earnMultiplierPercent: 100),
                Tier(name: "top", threshold: 5_000 * unit, earnMultiplierPercent: 100),
            ],
            pointValueMinorUnits: 1, minimumRedemptionPoints: 1, redemptionStepPoints: 1)
    }

    /// The chain's time zone: the program's (`earning.time_zone`), UTC when it names none. Every day a
    /// person sees (today's totals, the birthday week, promotions, the per-day cap) is a day in this zone.
    public var chainTimeZone: String { earningRules?.timeZone ?? "UTC" }

    /// The tier named `name`, or the first tier when the name is unknown (e.g. from an older program).
    public func tier(named name: String) -> Tier {
        tiers.first { $0.name == name } ?? tiers[0]
    }

    /// Whether the tier thresholds count points earned (else spend).
    public var tiersCountPoints: Bool { tierBasis == .points }

    /// The figure of `progress` the tier thresholds count.
    public func tierMeasure(_ progress: TierProgress) -> Int64 {
        tiersCountPoints ? progress.pointsEarned : progress.spendMinorUnits
    }

    /// The highest tier whose threshold `progress` reaches.
    public func tier(for progress: TierProgress) -> Tier {
        let measure = tierMeasure(progress)
        return tiers.last { $0.threshold <= measure } ?? tiers[0]
    }

    /// Tier after a purchase: upgrades happen at once, downgrades only at review time.
    public func tierAfterPurchase(current: Tier, progress: TierProgress) -> Tier {
        let reached = tier(for: progress)
        return reached.threshold > current.threshold ? reached : current
    }

    /// The next tier above both `current` and what `progress` reaches, and how much of the tier
    /// measure is still missing to it; nil at the top.
    public func nextTier(current: Tier, progress: TierProgress) -> (tier: Tier, missing: Int64)? {
        let measure = tierMeasure(progress)
        guard let next = tiers.first(where: { $0.threshold > max(measure, current.threshold) }) else { return nil }
        return (next, next.threshold - measure)
    }

    /// Points a sale of `amount` earns for a member in `tier`: rounding(amount × points per unit), then
    /// rounding(that × (tier multiplier − 100) %) added — the formula of ``earning(lines:tier:moment:birthdayMonth:earnedToday:flags:)``.
    public func pointsEarned(for amount: Money, tier: Tier) throws(LoyaltyError) -> Int64 {
        guard amount.currency == currency else {
            throw .badInput("wrong_currency", "the program counts in \(currency.code), not \(amount.currency.code)")
        }
        guard amount.minorUnits > 0 else {
            throw .badInput("zero_amount", "a sale amount must be greater than zero")
        }
        guard amount.minorUnits <= Money.maximumMinorUnits else {
            throw .badInput("bad_amount", "the amount is larger than any single sale can be")
        }
        // The one formula (the same as `earning(lines:…)` for one line and no rules): the base is rounded,
        // then the tier's extra on it, so a sale earns the same with or without `--line`.
        let tooMany = LoyaltyError.refused(
            "points_limit",
            "this sale would earn more than \(EarningBreakdown.maximumPointsPerEntry) points, more than one entry may carry")
        guard let base = basePoints(minorUnits: amount.minorUnits),
            let extra = rounding.scaledIfFits(base, by: max(0, tier.earnMultiplierPercent - 100), dividedBy: 100),
            extra <= EarningBreakdown.maximumPointsPerEntry - base
        else { throw tooMany }
        let points = base + extra
        return points
    }

    /// The base of a sale of `minorUnits` without rules or lines: rounding(amount × points per unit); nil beyond what
    /// one entry may carry.
    public func basePoints(minorUnits: Int64) -> Int64? {
        guard let base = rounding.scaledIfFits(minorUnits, by: pointsPerMajorUnit, dividedBy: currency.minorUnitsPerMajor),
            base <= EarningBreakdown.maximumPointsPerEntry
        else { return nil }
        return base
    }

    /// Checks a redemption against the share of the sale it may pay (when the program limits it):
    /// the discount of `points` may be at most `maximumRedemptionSharePercent` % of `sale`.
    public func checkRedemptionShare(points: Int64, sale: Money?) throws(LoyaltyError) {
        guard let percent = maximumRedemptionSharePercent else { return }
        guard let sale else {
            throw .badInput(
                "sale_amount_needed",
                "this program lets points pay at most \(percent) % of a sale: give the sale amount (--sale-amount)")
        }
        guard sale.currency == currency, sale.minorUnits > 0 else {
            throw .badInput("bad_amount", "the sale amount must be above zero, in \(currency.code)")
        }
        // Largest whole number of points whose value fits the share: floor(sale × percent / 100 / value).
        let allowed = Rounding.down.scale(sale.minorUnits, by: percent, dividedBy: 100 * pointValueMinorUnits)
        guard points <= allowed else {
            throw .refused(
                "over_sale_share",
                "points may pay at most \(percent) % of this \(sale.decimalString) \(currency.code) sale: redeem at most \(allowed) points")
        }
    }

    /// Checks a redemption of `points` against the rules and the balance the store can vouch for;
    /// returns the discount it is worth.
    public func redemptionValue(points: Int64, vouchedBalance: Int64) throws(LoyaltyError) -> Money {
        guard points > 0 else {
            throw .badInput("bad_points", "points to redeem must be a whole number greater than zero")
        }
        guard points >= minimumRedemptionPoints else {
            throw .refused("below_minimum", "the smallest redemption is \(minimumRedemptionPoints) points")
        }
        guard points % redemptionStepPoints == 0 else {
            throw .refused("bad_step", "points are redeemed in steps of \(redemptionStepPoints)")
        }
        guard points <= vouchedBalance else {
            throw .refused(
                "over_balance",
                "the member has \(max(0, vouchedBalance)) points; redeem at most \(max(0, vouchedBalance))")
        }
        let (value, overflow) = points.multipliedReportingOverflow(by: pointValueMinorUnits)
        guard !overflow, value <= Money.maximumMinorUnits else {
            throw .badInput("bad_points", "that many points is more than any redemption can be")
        }
        return Money(minorUnits: value, currency: currency)
    }
}
