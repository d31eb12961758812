public import Foundation
public import LoyaltyCore

/// An entry head office writes itself (expiry, a referral bonus), before it has an id.
public struct IssuedEntryRequest: Hashable, Sendable {
    public var memberId: Int64
    public var card: String
    public var kind: EntryKind
    public var points: Int64
    public var reason: String
    /// Written at most once: a second request with the same key changes nothing.
    public var idempotencyKey: String
    /// When it takes effect (an expiry run's as-of moment).
    public var createdAtMilliseconds: Int64

    public init(
        memberId: Int64, card: String, kind: EntryKind, points: Int64, reason: String, idempotencyKey: String,
        createdAtMilliseconds: Int64
    ) {
        precondition(kind == .expire || kind == .bonus, "head office writes expire and bonus entries only")
        self.memberId = memberId
        self.card = card
        self.kind = kind
        self.points = points
        self.reason = reason
        self.idempotencyKey = idempotencyKey
        self.createdAtMilliseconds = createdAtMilliseconds
    }
}

/// A member's points history as lots see it: every entry of every store and head office's own, in
/// time order.
public struct MemberPointHistory: Sendable {
    public var memberId: Int64
    public var card: String
    public var events: [PointEvent]

    public init(memberId: Int64, card: String, events: [PointEvent]) {
        self.memberId = memberId
        self.card = card
        self.events = events
    }
}

/// A referred member whose first sale reached head office and whose referral bonus is not given yet.
public struct PendingReferral: Hashable, Sendable {
    public var memberId: Int64
    public var card: String
    public var referrerMemberId: Int64
    public var referrerCard: String

    public init(memberId: Int64, card: String, referrerMemberId: Int64, referrerCard: String) {
        self.memberId = memberId
        self.card = card
        self.referrerMemberId = referrerMemberId
        self.referrerCard = referrerCard
    }
}

/// SQL shared by the drivers.
enum IssuedEntryQueries {
    /// Every points-moving entry, ordered by member and time (the key breaks ties the same way in both drivers).
    static let pointHistory = """
        SELECT x.member_id, m.first_card, x.key, x.kind, x.points, x.at_ms, x.refers_to FROM (
            SELECT member_id, store_id || ':' || seq AS key, kind, points, created_at_ms AS at_ms,
                   CASE WHEN refers_to_seq IS NULL THEN NULL ELSE store_id || ':' || refers_to_seq END AS refers_to
            FROM hq_entries WHERE points <> 0
            UNION ALL
            SELECT member_id, 'hq:' || id, kind, points, created_at_ms, NULL FROM hq_issued WHERE points <> 0
        ) x JOIN hq_members m ON m.id = x.member_id
        ORDER BY x.member_id, x.at_ms, x.key
        """

    /// Referred members with a sale at head office and no referral bonus yet (at most a bounded batch).
    static let pendingReferrals = """
        SELECT m.id, m.first_card, r.member_id, rm.first_card
        FROM hq_members m JOIN hq_cards r ON r.card = m.referred_by_card JOIN hq_members rm ON rm.id = r.member_id
        WHERE m.referred_by_card IS NOT NULL AND r.member_id <> m.id
          AND EXISTS (SELECT 1 FROM hq_entries e WHERE e.member_id = m.id AND e.kind = 'earn')
          AND NOT EXISTS (SELECT 1 FROM hq_issued i WHERE i.idempotency_key = 'referral:new:' || m.first_card)
        ORDER BY m.id LIMIT 1000
        """

    /// Sales a member made across every store, imported history included.
    static let purchasesSQLite = """
        (SELECT COUNT(*) FROM hq_entries e WHERE e.member_id = ?1 AND e.kind = 'earn')
        + (SELECT COUNT(*) FROM hq_imported_sales s WHERE s.member_id = ?1 AND s.kind = 'sale')
        """
}
