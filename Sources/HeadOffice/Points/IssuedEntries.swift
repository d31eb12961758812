public import Foundation
public import LoyaltyCore
import SyncProtocol

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
    /// When it counts in 12-month figures, when not at `createdAtMilliseconds`: a correction of a grant counts
    /// at the grant's time.
    public var countsAtMilliseconds: Int64?

    public init(
        memberId: Int64, card: String, kind: EntryKind, points: Int64, reason: String, idempotencyKey: String,
        createdAtMilliseconds: Int64, countsAtMilliseconds: Int64? = nil
    ) {
        precondition(
            kind == .expire || kind == .bonus || kind == .adjust,
            "head office writes expire, bonus and adjust entries only")
        self.memberId = memberId
        self.card = card
        self.kind = kind
        self.points = points
        self.reason = reason
        self.idempotencyKey = idempotencyKey
        self.createdAtMilliseconds = createdAtMilliseconds
        self.countsAtMilliseconds = countsAtMilliseconds
    }
}

/// A member's points history as lots see it: every entry of every store and head office's own, in
/// time order.
public struct MemberPointHistory: Sendable {
    public var memberId: Int64
    public var card: String
    public var events: [PointEvent]
    /// The member's lots as an expiry run kept them; `events` are then only those after them.
    public var resumed: ResumedPointLots?

    public init(memberId: Int64, card: String, events: [PointEvent], resumed: ResumedPointLots? = nil) {
        self.memberId = memberId
        self.card = card
        self.events = events
        self.resumed = resumed
    }
}

/// A history that starts from kept lots met a refund naming a sale or redemption the kept lots left out: the fold
/// reads the member's whole history instead (``MemberPointHistory/replayLots(lifetimeMilliseconds:through:observing:)``).
public struct WholeHistoryNeeded: Error, Sendable {
    public var memberId: Int64
}

extension MemberPointHistory {
    /// The member's lots after the events up to `throughMilliseconds`, starting from the kept lots if there are;
    /// `observe` sees every event (later ones too) with the lots before it. Throws ``WholeHistoryNeeded`` when the kept
    /// lots cannot take an event: a fold's step calls this before it changes its result, and is called again with
    /// the whole history.
    public func replayLots(
        lifetimeMilliseconds: Int64, through throughMilliseconds: Int64,
        observing observe: (PointEvent, PointLots) -> Void = { _, _ in }
    ) throws -> PointLots {
        var lots = resumed?.lots ?? PointLots(lifetimeMilliseconds: lifetimeMilliseconds)
        for event in events {
            observe(event, lots)
            guard event.atMilliseconds <= throughMilliseconds else { continue }
            if resumed != nil, !lots.canApplyToKeptLots(event) { throw WholeHistoryNeeded(memberId: memberId) }
            lots.apply(event)
        }
        return lots
    }
}

/// Groups a fold's rows (ordered by member) into members' histories.
struct PointHistoryGrouping {
    let lifetimeMilliseconds: Int64?
    private var pending: MemberPointHistory?
    /// Whether `pending`'s kept lots could not be read: its whole history is needed.
    private var pendingUnreadable = false
    /// Members whose kept lots could not be read (damaged): their whole histories are read instead, and the next run
    /// keeps their lots anew.
    private(set) var unreadable: [Int64] = []

    init(lifetimeMilliseconds: Int64?) { self.lifetimeMilliseconds = lifetimeMilliseconds }

    /// Adds one row; answers the previous member's history when the row starts another member. A row with `lots`
    /// carries the member's kept lots and leads its history.
    mutating func add(
        memberId: Int64, card: String, key: String, kind: String, points: Int64, atMilliseconds: Int64,
        refersTo: String?, lots: [UInt8]? = nil, expiryRuns: Int64? = nil, latestRunMilliseconds: Int64? = nil
    ) -> MemberPointHistory? {
        var finished: MemberPointHistory?
        if pending?.memberId != memberId {
            finished = finish()
            pending = MemberPointHistory(memberId: memberId, card: card, events: [])
        }
        if let lots {
            if let lifetimeMilliseconds,
                let restored = PointLots(lifetimeMilliseconds: lifetimeMilliseconds, checkpointBytes: lots)
            {
                pending!.resumed = ResumedPointLots(
                    lots: restored, expiryRuns: expiryRuns ?? 0,
                    latestRunMilliseconds: latestRunMilliseconds ?? Int64.min)
            } else {
                pendingUnreadable = true
            }
        } else if let kind = EntryKind(rawValue: kind) {
            pending!.events.append(
                PointEvent(key: key, kind: kind, points: points, atMilliseconds: atMilliseconds, refersTo: refersTo))
        }
        return finished
    }

    /// The last member's history, once the rows are done (nil if its kept lots were unreadable).
    mutating func finish() -> MemberPointHistory? {
        defer {
            pending = nil
            pendingUnreadable = false
        }
        guard let pending else { return nil }
        if pendingUnreadable {
            unreadable.append(pending.memberId)
            return nil
        }
        return pending
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

/// One use of a coupon that was used more than once (two stores accepted it offline).
public struct CouponUse: Codable, Hashable, Sendable {
    public var code: String
    public var card: String
    public var storeId: String
    public var receipt: String
    public var atMilliseconds: Int64
    /// `used_twice`: another store accepted it too; `used_and_voided`: a till accepted it offline while it was
    /// voided (its sale refunded elsewhere, or withdrawn by head office).
    public var problem: String

    public init(
        code: String, card: String, storeId: String, receipt: String, atMilliseconds: Int64,
        problem: String = "used_twice"
    ) {
        self.problem = problem
        self.code = code
        self.card = card
        self.storeId = storeId
        self.receipt = receipt
        self.atMilliseconds = atMilliseconds
    }
}

/// SQL shared by the drivers.
enum IssuedEntryQueries {
    /// Head office's own entry by its key (`?`): member, card, kind, points, reason, effective time.
    static let byKey = """
        SELECT member_id, card, kind, points, reason, created_at_ms FROM hq_issued WHERE idempotency_key = ?
        """

    /// Each coupon of the members `$MEMBERS` names (a placeholder each driver fills): voided, uses, and
    /// the issuing version and time; the newest 100 per page of members at most.
    static func couponStates(members: String) -> String {
        """
        SELECT member_id, coupon_code,
               MAX(CASE WHEN reason = 'voided' OR coupon_code IN (SELECT w.coupon_code FROM hq_coupon_withdrawals w)
                        THEN 1 ELSE 0 END),
               SUM(CASE WHEN reason = 'used' THEN 1 ELSE 0 END), MIN(CASE WHEN reason = 'issued' THEN rule_version END),
               MIN(CASE WHEN reason = 'issued' THEN created_at_ms END)
        FROM (SELECT member_id, coupon_code, reason, rule_version, created_at_ms FROM hq_entries
              WHERE kind = 'coupon' AND member_id \(members)
              UNION ALL
              -- Coupons head office issued itself (``reconcileEarlyVisitCoupons``). The filter is in each part:
              -- PostgreSQL does not push a filter with a subquery into a UNION (found by fleet-benchmark).
              SELECT member_id, coupon_code, 'issued', rule_version, issued_at_ms FROM hq_issued_coupons
              WHERE member_id \(members)) AS c
        GROUP BY member_id, coupon_code ORDER BY member_id, coupon_code
        """
    }

    /// A coupon's state from its entries, nil while its issue has not arrived.
    static func couponState(
        code: String, voided: Bool, uses: Int64, ruleVersion: Int?, issuedAt: Int64?
    ) -> CouponState? {
        guard let ruleVersion, let issuedAt else { return nil }
        // A use stands over a void: the discount was given (a till offline accepted it; `report coupons` lists it).
        return CouponState(
            code: code, status: uses > 0 ? "used" : voided ? "voided" : "open", ruleVersion: ruleVersion,
            issuedAtMilliseconds: issuedAt)
    }

    /// Every use of a coupon used more than once, and every use of a coupon that was also voided (a till accepted
    /// it offline after its sale was refunded elsewhere, or after head office withdrew it), by code and time.
    static let couponDoubleUses = """
        SELECT coupon_code, card, store_id, receipt, created_at_ms, 'used_twice' FROM hq_entries
        WHERE kind = 'coupon' AND reason = 'used'
          AND coupon_code IN (SELECT coupon_code FROM hq_entries WHERE kind = 'coupon' AND reason = 'used'
                              GROUP BY coupon_code HAVING COUNT(*) > 1)
        UNION ALL
        SELECT e.coupon_code, e.card, e.store_id, e.receipt, e.created_at_ms, 'used_and_voided' FROM hq_entries e
        WHERE e.kind = 'coupon' AND e.reason = 'used'
          AND (EXISTS (SELECT 1 FROM hq_entries v WHERE v.kind = 'coupon' AND v.reason = 'voided'
                         AND v.coupon_code = e.coupon_code)
               OR EXISTS (SELECT 1 FROM hq_coupon_withdrawals w WHERE w.coupon_code = e.coupon_code))
        ORDER BY 1, 5, 3, 6
        """

    /// Every points-moving entry, ordered by member and time (the key breaks ties the same way in both drivers).
    static let pointHistory = pointHistory(members: nil)

    /// The point histories of the members `members` selects (`IN (…)`), or of every member. Within a
    /// millisecond, expired points given back come last: they settle what the other events took twice. Head
    /// office's corrections of a sale, a grant or a day count at that moment, not when they were written (found by
    /// attack: a correction written today started a new lot, so points earned two months ago outlived expiry).
    /// With `blobType`, three more columns (kept lots, expiry runs, latest run: all null) as
    /// ``PointLotCheckpoints/resumedHistories(checkpoint:marked:blobType:)`` has them.
    static func pointHistory(members: String?, blobType: String? = nil) -> String {
        let only = members.map { "AND member_id \($0)" } ?? ""
        let noLots = blobType.map { ", CAST(NULL AS \($0)), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT)" } ?? ""
        return """
            SELECT x.member_id, m.first_card, x.key, x.kind, x.points, x.at_ms, x.refers_to\(noLots) FROM (
                SELECT member_id, store_id || ':' || seq AS key, kind, points, created_at_ms AS at_ms,
                       CASE WHEN refers_to_seq IS NULL THEN NULL
                            ELSE COALESCE(refers_to_store, store_id) || ':' || refers_to_seq END AS refers_to
                FROM hq_entries WHERE points <> 0 \(only)
                UNION ALL
                SELECT member_id, 'hq:' || id, kind, points, COALESCE(counts_at_ms, created_at_ms), NULL
                FROM hq_issued WHERE points <> 0 \(only)
            ) x JOIN hq_members m ON m.id = x.member_id
            ORDER BY x.member_id, x.at_ms, x.kind = 'expire' AND x.points > 0, x.key
            """
    }

    /// Referred members with a sale at head office that stands (not fully refunded) and no referral bonus
    /// yet (at most a bounded batch).
    static let pendingReferrals = """
        SELECT m.id, m.first_card, r.member_id, rm.first_card
        FROM hq_members m JOIN hq_cards r ON r.card = m.referred_by_card JOIN hq_members rm ON rm.id = r.member_id
        WHERE m.referred_by_card IS NOT NULL AND r.member_id <> m.id
          AND EXISTS (SELECT 1 FROM hq_entries e WHERE e.member_id = m.id AND e.kind = 'earn'
                      AND \(HeadOfficeSchema.saleStands))
          AND NOT EXISTS (SELECT 1 FROM hq_issued i WHERE i.member_id = m.id AND i.idempotency_key LIKE 'referral:new:%')
          AND NOT EXISTS (SELECT 1 FROM hq_issued i WHERE i.idempotency_key = 'referral:new:' || m.first_card)
        ORDER BY m.id LIMIT 1000
        """

    /// Sales a member made across every store, imported history included.
    static let purchasesSQLite = MemberLedgerTotals.purchases(member: "?1")
}
