/// What head office knows about one member on the as-of date, in whole days of the chain's time
/// zone (day numbers count from 1970-01-01). The input to every segment and model.
///
/// A *sale* is an earn entry's receipt, dated by its first entry, net of its refunds up to the
/// as-of date. The window holds sales dated after (as-of − 365 days) and on or before the as-of date.
public struct MemberFacts: Hashable, Sendable {
    public var memberId: Int64
    /// The member's first card: how reports name the member.
    public var card: String
    public var name: String?
    /// `MM-DD` or `YYYY-MM-DD`, as enrolled.
    public var birthday: String?
    /// The day the member enrolled, or was first seen when head office has no enrolment.
    public var firstSeenDay: Int
    public var firstSaleDay: Int?
    public var lastSaleDay: Int?
    /// The store of the latest sale.
    public var lastSaleStore: String?
    /// Sales on or before the as-of date.
    public var sales = 0
    /// Distinct days with a sale on or before the as-of date.
    public var saleDays = 0
    /// Net spend of the days after the first sale day (the repeat purchases of the spend model).
    public var repeatSpendMinorUnits: Int64 = 0
    /// Sales in the 365-day window.
    public var windowSales = 0
    /// Net spend of the window's sales.
    public var windowSpendMinorUnits: Int64 = 0
    /// Points earned in the window (earn and bonus entries less the earned points refunds took back),
    /// filled only for programs whose tiers count points (``TierBasis/points``).
    public var windowPointsEarned: Int64 = 0
    /// Window sales that redeemed points or fell in a promotion window.
    public var windowIncentiveSales = 0
    /// Members this member referred (attitudinal loyalty).
    public var referrals = 0
    /// Average kiosk satisfaction answer (1–5), when the member gave any.
    public var averageFeedback: Double?

    public init(memberId: Int64, card: String, firstSeenDay: Int, name: String? = nil, birthday: String? = nil) {
        self.memberId = memberId
        self.card = card
        self.firstSeenDay = firstSeenDay
        self.name = name
        self.birthday = birthday
    }
}

/// One sale as the history query streams it: already netted, already dated in the chain's days.
public struct SaleFact: Hashable, Sendable {
    public var memberId: Int64
    public var storeId: String
    public var day: Int
    public var netMinorUnits: Int64
    /// The receipt redeemed points or the sale fell in a promotion window.
    public var incentive: Bool

    public init(memberId: Int64, storeId: String, day: Int, netMinorUnits: Int64, incentive: Bool) {
        self.memberId = memberId
        self.storeId = storeId
        self.day = day
        self.netMinorUnits = netMinorUnits
        self.incentive = incentive
    }
}

/// Folds a member's sales, in day order, into their ``MemberFacts``. Memory holds one entry per
/// member, never per sale, so the history can be streamed.
public struct MemberFactsBuilder: Sendable {
    public let asOfDay: Int
    public private(set) var members: [Int64: MemberFacts] = [:]
    private var lastDayByMember: [Int64: Int] = [:]

    /// The first day of the 365-day window that ends on `asOfDay`.
    public var windowStartDay: Int { asOfDay - 364 }

    public init(asOfDay: Int, members: [MemberFacts]) {
        self.asOfDay = asOfDay
        for member in members { self.members[member.memberId] = member }
    }

    /// Adds one sale. A member's sales must come in day order; sales after the as-of date and sales
    /// of members head office does not list are ignored.
    public mutating func add(_ sale: SaleFact) {
        guard sale.day <= asOfDay, var member = members[sale.memberId] else { return }
        let previousDay = lastDayByMember[sale.memberId]
        precondition(previousDay.map { $0 <= sale.day } ?? true, "a member's sales arrive in day order")
        member.sales += 1
        if previousDay != sale.day { member.saleDays += 1 }
        if member.firstSaleDay == nil { member.firstSaleDay = sale.day }
        if member.firstSaleDay != sale.day { member.repeatSpendMinorUnits += sale.netMinorUnits }
        member.lastSaleDay = sale.day
        member.lastSaleStore = sale.storeId
        if sale.day >= windowStartDay {
            member.windowSales += 1
            member.windowSpendMinorUnits += sale.netMinorUnits
            if sale.incentive { member.windowIncentiveSales += 1 }
        }
        member.firstSeenDay = min(member.firstSeenDay, sale.day)
        lastDayByMember[sale.memberId] = sale.day
        members[sale.memberId] = member
    }

    /// Members that existed on the as-of date, ordered by card.
    public func facts() -> [MemberFacts] {
        members.values.filter { $0.firstSeenDay <= asOfDay }.sorted { $0.card < $1.card }
    }
}
