/// A coupon the program issues by a rule: a discount the member uses once, at any store.
public struct CouponRule: Hashable, Sendable, Codable {
    /// What issues the coupon.
    public enum Trigger: Hashable, Sendable, Codable {
        /// When the member enrols (a welcome coupon).
        case enrolment
        /// When a new member makes their `visits`-th sale within `withinDays` days of enrolling: a
        /// high-potential new member worth an offer.
        case earlyVisits(visits: Int, withinDays: Int)
    }

    /// Lower-case letters, digits, '-' and '_'; a coupon's code is `NAME-CARD` in upper case.
    public var name: String
    public var trigger: Trigger
    /// The discount at the till, in minor units.
    public var discountMinor: Int64
    /// Days the coupon stays usable after it is issued.
    public var validDays: Int

    public init(name: String, trigger: Trigger, discountMinor: Int64, validDays: Int) {
        self.name = name
        self.trigger = trigger
        self.discountMinor = discountMinor
        self.validDays = validDays
    }

    /// The code of this rule's coupon for the member whose chain-wide first card is `card`: one per member
    /// and rule, so two stores issuing it offline issue the same coupon. The part after the name is a
    /// digest of the chain's coupon key, the rule and the member (`digest`), never the card itself.
    public func code(card: String, couponKey: String?, digest: (String) -> String) -> String {
        name.uppercased() + "-" + digest("\(couponKey ?? "")|\(name)|\(card)")
    }

    /// The rule a code was issued by, if it is one of `rules`' codes.
    public static func parse(code: String, rules: [CouponRule]) -> (rule: CouponRule, digest: String)? {
        for rule in rules {
            let prefix = rule.name.uppercased() + "-"
            if code.hasPrefix(prefix), code.count > prefix.count { return (rule, String(code.dropFirst(prefix.count))) }
        }
        return nil
    }
}
