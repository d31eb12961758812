/// How a sale's points came about, for the receipt: base, tier, each promotion, the birthday month,
/// what the caps took, and the total. `base + tier + Σ promotions + birthday − capped == points`.
public struct EarningBreakdown: Hashable, Sendable, Codable {
    public struct Step: Hashable, Sendable, Codable {
        public var name: String
        public var multiplierPercent: Int64
        public var points: Int64
    }

    /// Amount that earns (excluded categories left out), in minor units.
    public var eligibleMinor: Int64
    public var base: Int64
    public var tier: Int64
    public var promotions: [Step]
    public var birthday: Int64
    /// Points the per-sale and per-day caps took away (≥ 0).
    public var capped: Int64
    public var points: Int64
}

extension EarningBreakdown {
    /// The most points one entry may carry: the same bound head office applies to every entry it
    /// receives (`SyncEntry.maximumMagnitude`), so a till never writes an entry head office refuses.
    public static let maximumPointsPerEntry: Int64 = 1_000_000_000_000
}

extension LoyaltyProgram {
    /// Points a sale earns under this version's rules, with the breakdown. Refused (never a trap) when a
    /// legal program and a legal amount would earn more than ``EarningBreakdown/maximumPointsPerEntry``.
    ///
    /// 1. base = rounding(Σ eligible line amount × category multiplier × points per unit);
    /// 2. the tier multiplier adds rounding(base × (m − 100) %);
    /// 3. promotions that apply (window, weekday, hour, tier, segment) and the birthday-month multiplier follow,
    ///    each adding rounding(running total × (m − 100) %) (`multiply`), or only the largest (`best`);
    /// 4. the per-sale cap, then the per-member-per-day cap (given the points already earned that day),
    ///    apply last.
    public func earning(
        lines: [SaleLine], tier: Tier, moment: SaleMoment, birthdayMonth: Int?, earnedToday: Int64, flags: [String] = []
    ) throws(LoyaltyError) -> EarningBreakdown {
        let tooMany = LoyaltyError.refused(
            "points_limit",
            "this sale would earn more than \(EarningBreakdown.maximumPointsPerEntry) points, more than one entry may "
                + "carry; check the amount (or the program's multipliers)")
        let rules = earningRules ?? EarningRules()
        let excluded = Set(rules.excludedCategories)
        var weighted: (high: Int64, low: UInt64) = (0, 0)
        var eligible: Int64 = 0
        for line in lines where !excluded.contains(line.category) && line.amountMinor > 0 {
            let (sum, overflowed) = eligible.addingReportingOverflow(line.amountMinor)
            guard !overflowed else { throw tooMany }
            eligible = sum
            let percent = rules.categoryMultiplierPercent[line.category] ?? 100
            let (rate, rateOverflowed) = percent.multipliedReportingOverflow(by: pointsPerMajorUnit)
            guard !rateOverflowed else { throw tooMany }
            let product = line.amountMinor.multipliedFullWidth(by: rate)
            let (low, carry) = weighted.low.addingReportingOverflow(product.low)
            let (high, highOverflowed) = weighted.high.addingReportingOverflow(product.high + (carry ? 1 : 0))
            guard !highOverflowed else { throw tooMany }
            weighted = (high, low)
        }
        guard let base = rounding.dividedIfFits(weighted, by: currency.minorUnitsPerMajor * 100),
            base <= EarningBreakdown.maximumPointsPerEntry
        else { throw tooMany }
        let priced = try multiplied(base: base, tier: tier, moment: moment, birthdayMonth: birthdayMonth, flags: flags)
        let running = priced.running
        var total = running
        if let cap = rules.perSaleCapPoints { total = min(total, cap) }
        if let dayCap = rules.perMemberDayCapPoints { total = min(total, max(0, dayCap - earnedToday)) }
        let breakdown = EarningBreakdown(
            eligibleMinor: eligible, base: base, tier: priced.tierExtra, promotions: priced.steps, birthday: priced.birthday,
            capped: running - total, points: total)
        assert(breakdown.base + breakdown.tier + breakdown.promotions.reduce(0) { $0 + $1.points } + breakdown.birthday
            - breakdown.capped == breakdown.points, "the breakdown adds up")
        return breakdown
    }

    /// What a sale of `base` points earns before the per-day cap: the tier's extra, promotions and birthday month,
    /// then the per-sale cap (steps 2–4 of ``earning(lines:tier:moment:birthdayMonth:earnedToday:flags:)``).
    /// Head office prices a sale again with it when the chain's tier or time differs from the till's.
    public func pointsBeforeDayCap(
        base: Int64, tier: Tier, moment: SaleMoment, birthdayMonth: Int?, flags: [String] = []
    ) throws(LoyaltyError) -> Int64 {
        let running = try multiplied(base: base, tier: tier, moment: moment, birthdayMonth: birthdayMonth, flags: flags)
            .running
        return earningRules?.perSaleCapPoints.map { min(running, $0) } ?? running
    }

    /// Steps 2 and 3: the tier's extra on the base, then each promotion and the birthday month on the running total.
    private func multiplied(
        base: Int64, tier: Tier, moment: SaleMoment, birthdayMonth: Int?, flags: [String]
    ) throws(LoyaltyError) -> (tierExtra: Int64, steps: [EarningBreakdown.Step], birthday: Int64, running: Int64) {
        let tooMany = LoyaltyError.refused(
            "points_limit",
            "this sale would earn more than \(EarningBreakdown.maximumPointsPerEntry) points, more than one entry may "
                + "carry; check the amount (or the program's multipliers)")
        let rules = earningRules ?? EarningRules()
        func extra(_ running: Int64, _ percent: Int64) throws(LoyaltyError) -> Int64 {
            guard let points = rounding.scaledIfFits(running, by: max(0, percent - 100), dividedBy: 100),
                points <= EarningBreakdown.maximumPointsPerEntry
            else { throw tooMany }
            return points
        }
        let tierExtra = try extra(base, tier.earnMultiplierPercent)
        var running = base + tierExtra
        guard running <= EarningBreakdown.maximumPointsPerEntry else { throw tooMany }
        var candidates = rules.promotions.filter { $0.applies(at: moment, tier: tier.name, flags: flags) }.map {
            (name: $0.name, percent: $0.multiplierPercent, isBirthday: false)
        }
        if let birthdayPercent = rules.birthdayMonthMultiplierPercent, birthdayMonth == moment.month {
            candidates.append((name: "birthday month", percent: birthdayPercent, isBirthday: true))
        }
        if rules.combination == .best, let best = candidates.max(by: { $0.percent < $1.percent }) {
            candidates = [best]
        }
        var steps: [EarningBreakdown.Step] = []
        var birthday: Int64 = 0
        for candidate in candidates {
            let points = try extra(running, candidate.percent)
            running += points
            guard running <= EarningBreakdown.maximumPointsPerEntry else { throw tooMany }
            if candidate.isBirthday {
                birthday = points
            } else {
                steps.append(.init(name: candidate.name, multiplierPercent: candidate.percent, points: points))
            }
        }
        return (tierExtra, steps, birthday, running)
    }
}
