/// The earning rules of a program version beyond the plain rate: categories, promotions, the
/// birthday month, caps, and how several multipliers combine. All optional; a version without them
/// earns `points_per_unit` × the tier multiplier.
public struct EarningRules: Hashable, Sendable, Codable {
    /// How several promotion (and birthday) multipliers combine. The tier multiplier always applies first.
    public enum Combination: String, Hashable, Sendable, Codable, CaseIterable {
        /// Each applies in turn to the running total.
        case multiply
        /// Only the largest applies.
        case best
    }

    /// Categories that earn nothing (still counted as spend for tiers).
    public var excludedCategories: [String] = []
    /// Category → multiplier in percent on that category's amount (default 100).
    public var categoryMultiplierPercent: [String: Int64] = [:]
    public var promotions: [Promotion] = []
    public var combination: Combination = .multiply
    /// Earn multiplier in the member's birthday month (percent), nil: none.
    public var birthdayMonthMultiplierPercent: Int64?
    /// Most points one sale earns; nil: no cap.
    public var perSaleCapPoints: Int64?
    /// Most points a member earns per day (the chain's days); nil: no cap.
    public var perMemberDayCapPoints: Int64?
    /// IANA time zone of promotion windows, the birthday month and the daily cap.
    public var timeZone = "UTC"

    public init() {}

    /// Whether the rules change nothing (the award path then skips them).
    public var isEmpty: Bool {
        excludedCategories.isEmpty && categoryMultiplierPercent.isEmpty && promotions.isEmpty
            && birthdayMonthMultiplierPercent == nil && perSaleCapPoints == nil && perMemberDayCapPoints == nil
    }
}

/// A multiplier in a time window, optionally only for some tiers.
public struct Promotion: Hashable, Sendable, Codable {
    public var name: String
    public var multiplierPercent: Int64
    /// First and last calendar day (`YYYY-MM-DD`, the rules' time zone), inclusive; nil: open.
    public var fromDay: String?
    public var untilDay: String?
    /// ISO weekdays (1 = Monday … 7 = Sunday); empty: every day.
    public var weekdays: [Int] = []
    /// Local hours `[fromHour, untilHour)`; nil: all day.
    public var fromHour: Int?
    public var untilHour: Int?
    /// Tier names it applies to; empty: every tier.
    public var tiers: [String] = []
    /// Head office's segment flags it applies to (e.g. `welcome_back`, `at_risk`): the member needs one
    /// of them at the till's last pull; empty: every member.
    public var segments: [String] = []

    public init(name: String, multiplierPercent: Int64) {
        self.name = name
        self.multiplierPercent = multiplierPercent
    }

    /// Whether the promotion applies to a sale at `moment` by a member in `tier` with segment `flags`.
    public func applies(at moment: SaleMoment, tier: String, flags: [String] = []) -> Bool {
        if let fromDay, moment.day < fromDay { return false }
        if let untilDay, moment.day > untilDay { return false }
        if !weekdays.isEmpty && !weekdays.contains(moment.weekday) { return false }
        if let fromHour, moment.hour < fromHour { return false }
        if let untilHour, moment.hour >= untilHour { return false }
        if !tiers.isEmpty && !tiers.contains(tier) { return false }
        if !segments.isEmpty && !segments.contains(where: flags.contains) { return false }
        return true
    }
}

/// When a sale happened, in the rules' time zone.
public struct SaleMoment: Hashable, Sendable {
    /// `YYYY-MM-DD`.
    public var day: String
    /// 1 = Monday … 7 = Sunday.
    public var weekday: Int
    public var hour: Int
    public var month: Int

    public init(day: String, weekday: Int, hour: Int, month: Int) {
        self.day = day
        self.weekday = weekday
        self.hour = hour
        self.month = month
    }
}

/// One line of a sale (`--line SKU:CATEGORY:AMOUNT`).
public struct SaleLine: Hashable, Sendable, Codable {
    public var sku: String
    public var category: String
    public var amountMinor: Int64

    public init(sku: String, category: String, amountMinor: Int64) {
        self.sku = sku
        self.category = category
        self.amountMinor = amountMinor
    }
}
