/// The thresholds of head office's segments and models. Program settings; these are the defaults.
public struct AnalyticsSettings: Hashable, Sendable, Codable {
    /// IANA name of the chain's time zone: report days are whole calendar days there.
    public var timeZone = "UTC"
    /// The chain's currency (ISO 4217): imported amounts and lifetime values are in it.
    public var currencyCode = "EUR"
    /// A member enrolled (or first seen) at most this many days before is `new`.
    public var newMemberDays = 30
    /// Last sale at most this many days before: `active`.
    public var activeDays = 60
    /// Last sale at most this many days before (and more than ``activeDays``): `at_risk`.
    public var atRiskDays = 120
    /// Last sale at most this many days before (and more than ``atRiskDays``): `dormant`; beyond: `churned`.
    public var dormantDays = 365
    /// Super users are the smallest top group whose spend reaches this percentage of all spend.
    public var superUserSharePercent = 80
    /// Share of a sale's value that is profit, for lifetime value.
    public var margin = 0.3
    /// Weeks ahead that lifetime value counts expected sales for.
    public var lifetimeHorizonWeeks = 52
    /// Members with at least two sales whose P(alive) fell below this are on the churn warning list.
    public var churnProbabilityAlive = 0.3

    public init() {}

    /// Every setting by its name in `loyalty-hq settings`, as text.
    public var values: [(key: String, value: String)] {
        [
            ("time_zone", timeZone), ("currency", currencyCode), ("new_member_days", String(newMemberDays)), ("active_days", String(activeDays)),
            ("at_risk_days", String(atRiskDays)), ("dormant_days", String(dormantDays)),
            ("super_user_share_percent", String(superUserSharePercent)), ("margin", String(margin)),
            ("lifetime_horizon_weeks", String(lifetimeHorizonWeeks)),
            ("churn_probability_alive", String(churnProbabilityAlive)),
        ]
    }

    public var currency: Currency { (try? Currency.named(currencyCode)) ?? .euro }

    public static var keys: [String] { AnalyticsSettings().values.map(\.key) }

    /// Sets `key` from text, checking the value; `isKnownTimeZone` is the caller's time-zone database.
    /// A refused value changes nothing.
    public mutating func set(_ key: String, to text: String, isKnownTimeZone: (String) -> Bool) throws(LoyaltyError) {
        var candidate = self
        try candidate.apply(key, text, isKnownTimeZone: isKnownTimeZone)
        self = candidate
    }

    private mutating func apply(_ key: String, _ text: String, isKnownTimeZone: (String) -> Bool) throws(LoyaltyError) {
        func integer(_ range: ClosedRange<Int>) throws(LoyaltyError) -> Int {
            guard let value = Int(text), range.contains(value) else {
                throw .badInput("bad_setting", "\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
            }
            return value
        }
        func fraction() throws(LoyaltyError) -> Double {
            guard let value = Double(text), value > 0, value < 1 else {
                throw .badInput("bad_setting", "\(key) must be a number between 0 and 1 (e.g. 0.3), not '\(text)'")
            }
            return value
        }
        switch key {
        case "time_zone":
            guard isKnownTimeZone(text) else {
                throw .badInput("bad_setting", "time_zone must be an IANA time zone such as Europe/Berlin or UTC, not '\(text)'")
            }
            timeZone = text
        case "currency":
            currencyCode = try Currency.named(text).code
        case "new_member_days": newMemberDays = try integer(1...3650)
        case "active_days": activeDays = try integer(1...3650)
        case "at_risk_days": atRiskDays = try integer(1...3650)
        case "dormant_days": dormantDays = try integer(1...3650)
        case "super_user_share_percent": superUserSharePercent = try integer(1...100)
        case "margin": margin = try fraction()
        case "lifetime_horizon_weeks": lifetimeHorizonWeeks = try integer(1...520)
        case "churn_probability_alive": churnProbabilityAlive = try fraction()
        default:
            throw .badInput("unknown_setting", "there is no setting '\(key)'; the settings are \(Self.keys.joined(separator: ", "))")
        }
        guard activeDays < atRiskDays, atRiskDays < dormantDays else {
            throw .badInput(
                "bad_setting",
                "active_days (\(activeDays)) < at_risk_days (\(atRiskDays)) < dormant_days (\(dormantDays)) must hold")
        }
    }
}
