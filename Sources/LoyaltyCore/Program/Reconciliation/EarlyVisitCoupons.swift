/// The coupons of the early-visit rules (`visits` sales within `withinDays` days of enrolling) the always-online
/// program would have issued: a till issues one from its view of the chain's sales, so visits spread over
/// tills that had not synced issue none. Head office, which sees every store's sales, issues what is missing.
public enum EarlyVisitCoupons {
    public struct Sale: Hashable, Sendable {
        public var atMilliseconds: Int64
        public var ruleVersion: Int
        /// `STORE:SEQ`.
        public var key: String
        /// Every amount of it came back: a coupon it issued is voided, as a till voids one with the full refund.
        public var fullyRefunded: Bool

        public init(atMilliseconds: Int64, ruleVersion: Int, key: String = "", fullyRefunded: Bool = false) {
            self.atMilliseconds = atMilliseconds
            self.ruleVersion = ruleVersion
            self.key = key
            self.fullyRefunded = fullyRefunded
        }
    }

    /// A coupon to issue: its rule, the program version that issues it and the sale that reached the count.
    public struct Due: Hashable, Sendable {
        public var rule: CouponRule
        public var programVersion: Int
        public var atMilliseconds: Int64
        /// The sale that reached the count.
        public var sale: Sale
    }

    /// - Parameters:
    ///   - held: the rule names the member holds a coupon of already (any status: a used or voided one stays).
    ///   - program: the program that decides a sale (in force then, or the newer version the till recorded).
    public static func due(
        enrolledAtMilliseconds enrolled: Int64, sales: [Sale], held: Set<String>, program: (Sale) -> LoyaltyProgram
    ) -> [Due] {
        var result: [Due] = []
        var issued = held
        let ordered = sales.filter { $0.atMilliseconds >= enrolled }.sorted { $0.atMilliseconds < $1.atMilliseconds }
        for (index, sale) in ordered.enumerated() {
            let deciding = program(sale)
            for rule in deciding.coupons ?? [] where !issued.contains(rule.name) {
                guard case .earlyVisits(let visits, let days) = rule.trigger, index + 1 >= visits,
                    sale.atMilliseconds <= enrolled &+ Int64(days) &* 86_400_000
                else { continue }
                issued.insert(rule.name)
                result.append(
                    Due(rule: rule, programVersion: deciding.version, atMilliseconds: sale.atMilliseconds, sale: sale))
            }
        }
        return result
    }
}
