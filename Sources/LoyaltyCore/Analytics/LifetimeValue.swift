/// Lifetime value and churn risk per member from the BG/NBD and Gamma-Gamma models fitted on the
/// chain's own history up to the as-of date.
///
/// Each member with a sale gives (x, tₓ, T) in weeks: x = days with a sale − 1, tₓ = last − first sale
/// day, T = as-of − first sale day; and the mean net value of the repeat days. CLV = expected sales in
/// the horizon × expected value per sale × margin.
public struct LifetimeValueReport: Sendable {
    public struct Member: Hashable, Sendable, Codable {
        public var card: String
        public var sales: Int
        public var frequency: Int
        public var recencyWeeks: Double
        public var ageWeeks: Double
        public var pAlive: Double
        public var expectedSales: Double
        /// Expected value of one future sale, in currency units.
        public var expectedSaleValue: Double
        /// In currency units.
        public var clv: Double
    }

    public var purchases: BetaGeometricNBD
    public var spend: GammaGammaSpend
    /// Members with at least one sale, ordered by card.
    public var members: [Member]

    public init(_ facts: [MemberFacts], asOfDay: Int, settings: AnalyticsSettings) throws(LoyaltyError) {
        let buyers = facts.filter { $0.firstSaleDay != nil }
        let minorPerMajor = Double(settings.currency.minorUnitsPerMajor)
        let histories = buyers.map { Self.history($0, asOfDay: asOfDay) }
        let purchases = try BetaGeometricNBD.fit(histories)
        let spend = try GammaGammaSpend.fit(
            zip(buyers, histories).map { ($1.frequency, Self.meanRepeatValue($0, minorPerMajor: minorPerMajor)) })
        let horizon = Double(settings.lifetimeHorizonWeeks)
        members = zip(buyers, histories).map { member, history in
            let expectedSales = purchases.expectedPurchases(history, weeks: horizon)
            let value = spend.expectedSaleValue(
                frequency: history.frequency, meanValue: Self.meanRepeatValue(member, minorPerMajor: minorPerMajor))
            return Member(
                card: member.card, sales: member.sales, frequency: Int(history.frequency), recencyWeeks: history.recency,
                ageWeeks: history.age, pAlive: purchases.probabilityAlive(history), expectedSales: expectedSales,
                expectedSaleValue: value, clv: expectedSales * value * settings.margin)
        }.sorted { $0.card < $1.card }
        // Found by attack: one sale of 9,999,999,999.99 among a few small ones fitted a spend model with no
        // finite mean (q ≤ 1): every value printed `inf`, and `--json` printed `{}`. A report of numbers only.
        if let unbounded = members.first(where: { !($0.expectedSaleValue.isFinite && $0.clv.isFinite && $0.pAlive.isFinite) }) {
            throw .refused(
                "model_without_finite_value",
                "the spend model fitted on this history gives the card ending \(unbounded.card.suffix(4)) no finite sale value "
                    + "(too few members with repeat purchases, or a few sales far larger than the rest): "
                    + "report clv needs more history; the segment reports do not")
        }
        self.purchases = purchases
        self.spend = spend
    }

    /// Members with at least two sales whose P(alive) fell below the churn threshold.
    public func churnWarnings(settings: AnalyticsSettings) -> [Member] {
        members.filter { $0.sales >= 2 && $0.pAlive < settings.churnProbabilityAlive }
    }

    static func history(_ member: MemberFacts, asOfDay: Int) -> RepeatPurchaseHistory {
        let first = member.firstSaleDay!
        return RepeatPurchaseHistory(
            frequency: Double(member.saleDays - 1), recency: Double(member.lastSaleDay! - first) / 7,
            age: Double(asOfDay - first) / 7)
    }

    static func meanRepeatValue(_ member: MemberFacts, minorPerMajor: Double) -> Double {
        member.saleDays > 1 ? Double(member.repeatSpendMinorUnits) / minorPerMajor / Double(member.saleDays - 1) : 0
    }
}
