public import LoyaltyCore

/// What `award` did: the points a sale earned and the member's balance after it.
public struct AwardResult: Hashable, Sendable, Codable {
    public var card: String
    public var memberId: Int64
    public var receipt: String
    public var amount: String
    public var currency: String
    public var points: Int64
    /// The member's balance right after this sale's entry.
    public var balance: Int64
    public var tier: String
    public var seq: Int64
    public var ruleVersion: Int
    /// True when the sale had already been recorded and this call wrote nothing.
    public var replayed: Bool
    /// The card earned as a provisional member (not enrolled at this till yet).
    public var provisional: Bool = false
    /// How the points came about (base, tier, promotions, birthday, caps), for the receipt; absent on
    /// a retry and under a version with no earning rules and no sale lines.
    public var breakdown: EarningBreakdown? = nil
    /// The program's first-purchase bonus, when this was the member's first sale (already in ``balance``).
    public var firstPurchaseBonus: Int64? = nil
    /// Coupons this sale earned (a high-potential new member's offer).
    public var couponsIssued: [String]? = nil
}

/// What `redeem` did: the points spent, the discount they are worth, the balance after.
public struct RedeemResult: Hashable, Sendable, Codable {
    public var card: String
    public var memberId: Int64
    public var receipt: String
    /// Points spent (positive).
    public var points: Int64
    /// Discount the points are worth, as a decimal string in ``currency``.
    public var discount: String
    public var currency: String
    public var balance: Int64
    public var seq: Int64
    public var replayed: Bool
}

/// What `refund` did to a sale's points.
public struct RefundResult: Hashable, Sendable, Codable {
    public var card: String
    public var memberId: Int64
    public var receipt: String
    public var returnReceipt: String
    /// The amount this refund covered, as a decimal string.
    public var refundAmount: String
    public var currency: String
    /// Earned points taken back (zero or negative).
    public var reversedPoints: Int64
    /// Redeemed points given back (zero or positive).
    public var restoredPoints: Int64
    /// Bonuses that depended on the sale taken back with its full refund (zero or negative): the
    /// first-purchase bonus.
    public var reversedBonusPoints: Int64 = 0
    /// Unused coupons the sale had earned, voided with its full refund.
    public var voidedCoupons: [String]? = nil
    public var balance: Int64
    public var fullyRefunded: Bool
    public var replayed: Bool
    /// The store that made the sale, when it was another than this one (a return taken here).
    public var soldAtStore: String? = nil
}

/// A newly enrolled member.
public struct EnrollResult: Hashable, Sendable, Codable {
    public var card: String
    public var memberId: Int64
    public var name: String?
    public var birthday: String?
    public var tier: String
    public var balance: Int64
    /// The card of the member who referred this one, if any.
    public var referredBy: String? = nil
    /// The program's enrolment bonus (already in ``balance``).
    public var enrolmentBonus: Int64? = nil
    /// Coupons issued at enrolment (a welcome coupon).
    public var couponsIssued: [String]? = nil
    /// True when this till had made this very enrolment before and this call wrote nothing.
    public var replayed: Bool = false
}

/// What `cards add` did: the card added and every card the member now holds.
public struct AddedCard: Hashable, Sendable, Codable {
    public var card: String
    /// The member's cards, oldest first.
    public var cards: [String]
    /// True when the member held the card already and this call wrote nothing.
    public var replayed: Bool
}

/// One ledger entry as shown to a cashier or manager.
public struct EntryView: Hashable, Sendable, Codable {
    public var seq: Int64
    public var kind: EntryKind
    public var points: Int64
    /// Spend effect as a decimal string (sale amount for earn, minus the refunded amount for a reverse).
    public var amount: String
    public var balanceAfter: Int64
    public var receipt: String
    public var ruleVersion: Int
    /// UTC, ISO 8601.
    public var at: String
}

/// A member as the store sees them.
public struct MemberView: Hashable, Sendable, Codable {
    public var card: String
    public var cardStatus: String
    /// Earning on a card this till had not heard of; redeems once enrolled here or described by head office.
    public var provisional: Bool
    public var memberId: Int64
    public var name: String?
    public var birthday: String?
    /// What the member has: head office's balance across stores plus this store's newer entries
    /// (this store's ledger alone before the first sync).
    public var balance: Int64
    /// Σ of this store's own entries for the member.
    public var localBalance: Int64
    /// Head office's balance at the last pull, if any.
    public var headOfficeBalance: Int64?
    public var tier: String
    /// What the member's tier brings besides its multiplier, in words (the program's `benefits`).
    public var tierBenefits: [String]
    /// What the program's tiers count: `spend` or `points` (points earned).
    public var tiersBy: String
    /// Spend here over the last 365 days, as a decimal string.
    public var rollingSpend: String
    /// Points earned here over the last 365 days (earn and bonus entries less what refunds took back).
    public var rollingPointsEarned: Int64
    /// The next tier up (nil at the top tier) and what is still needed to reach it: 12-month spend
    /// when tiers count spend, points earned when they count points.
    public var nextTier: String?
    public var spendToNextTier: String?
    public var pointsToNextTier: Int64?
    /// The member's birthday falls within the next 7 days (today included, UTC).
    public var birthdayThisWeek: Bool
    /// Head office's segment flags at the last pull (e.g. `welcome_back`, `super_user`).
    public var flags: [String]
    public var currency: String
    public var cards: [String]
    public var enrolledAt: String
    /// Newest first.
    public var recentEntries: [EntryView]
    /// Entries head office wrote for the member (expiry, referral bonuses), newest first; already in
    /// ``balance`` through head office's snapshot.
    public var headOfficeEntries: [HeadOfficeIssuedEntry] = []
    /// The member's coupons this till knows (issued here or pulled from head office), newest first.
    public var coupons: [CouponView] = []
}

/// The store's health and today's totals, for the store manager.
public struct StoreStatus: Hashable, Sendable, Codable {
    /// nil while the ledger is unassigned (`loyalty-agent init --store-id` binds it).
    public var storeId: String?
    /// This ledger file's identity, as head office records it.
    public var ledgerId: String
    public var members: Int64
    public var entries: Int64
    public var lastSeq: Int64
    /// The highest sequence head office has acknowledged.
    public var acknowledgedSeq: Int64
    /// Entries not yet acknowledged by head office.
    public var unsyncedEntries: Int64
    /// Last successful sync with head office (ISO 8601), if any.
    public var lastSyncSuccess: String?
    /// The last sync failure's message and time, if the last attempt failed.
    public var lastSyncError: String?
    public var lastSyncErrorAt: String?
    /// The first failed sync since the last success (ISO 8601): head office unreachable since then.
    public var offlineSince: String?
    /// Start of "today" in the chain's time zone, ISO 8601 (UTC).
    public var day: String
    /// The chain's time zone (the program's), in which "today" is counted.
    public var timeZone: String
    public var entriesToday: Int64
    public var pointsIssuedToday: Int64
    public var pointsRedeemedToday: Int64
    public var pointsReversedToday: Int64
    public var salesToday: String
    public var currency: String
    public var programVersion: Int
    public var databasePath: String
    /// Database file plus its write-ahead log, in bytes.
    public var databaseBytes: Int64
    public var journalMode: String
    /// `ok` when SQLite's quick check passes, else its first complaint.
    public var health: String
    /// A store of several tills: the tills the store hub knows, when this till last exchanged with it
    /// (ISO 8601), and how far the hub holds this till's entries. Nil without a hub.
    public var storeHubTills: Int64? = nil
    public var lastStoreHubExchange: String? = nil
    public var storeHubAcknowledged: Int64? = nil
}

/// The result of `verify`: each invariant checked, and whether all hold.
public struct VerificationReport: Hashable, Sendable, Codable {
    public struct Check: Hashable, Sendable, Codable {
        public var name: String
        public var ok: Bool
        public var detail: String
    }

    public var ok: Bool { checks.allSatisfy(\.ok) }
    public var checks: [Check]
    public var members: Int64
    public var entries: Int64
}
