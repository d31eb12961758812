import LoyaltyCore

/// SQL shared by both drivers for the once-per-member grants. `$MEMBERS` is each driver's filter on
/// `member_id` (the members a batch touched).
enum ReconciliationQueries {
    /// Grant bonuses stores paid, net of the refunds that took them back: member, store, grant reason, points, time.
    static func paid(members: String) -> String {
        """
        SELECT b.member_id, b.store_id, b.reason,
               CAST(b.points + COALESCE((SELECT SUM(r.points) FROM hq_entries r
                                         WHERE r.refers_to_seq = b.seq AND COALESCE(r.refers_to_store, r.store_id) = b.store_id AND r.kind = 'reverse'), 0)
                    AS BIGINT),
               b.created_at_ms
        FROM hq_entries b
        WHERE b.kind = 'bonus' AND b.reason IN ('enrolment bonus', 'first-purchase bonus') AND b.member_id \(members)
        """
    }

    /// Head office's corrections: member, idempotency key, points.
    static func corrections(members: String) -> String {
        """
        SELECT member_id, idempotency_key, points FROM hq_issued
        WHERE kind = 'adjust' AND idempotency_key LIKE 'reconcile:%' AND member_id \(members)
        """
    }

    /// Enrolments (not cards added to a member) and sales still standing (net amount above zero), oldest first: member, kind, store, seq, time.
    static func events(members: String) -> String {
        """
        SELECT e.member_id, e.kind, e.store_id, e.seq, e.created_at_ms, e.rule_version FROM hq_entries e
        WHERE e.member_id \(members) AND ((e.kind = 'enroll' AND e.joins_card IS NULL) OR (e.kind = 'earn'
              AND \(HeadOfficeSchema.saleStands)))
        ORDER BY e.member_id, e.created_at_ms, e.store_id, e.seq
        """
    }

    /// Each member's first card and first imported sale.
    static func members(members: String) -> String {
        """
        SELECT m.id, m.first_card, (SELECT MIN(i.at_ms) FROM hq_imported_sales i WHERE i.member_id = m.id AND i.kind = 'sale')
        FROM hq_members m WHERE m.id \(members)
        """
    }

    /// Referral bonuses paid to members among `$MEMBERS` as new members, earliest first: member, card, referrer
    /// member and card, points, net and count of corrections, the referred card, whether a merge took it back.
    /// (Corrections of the new member's side whatever card named them: a merge changes the first card.)
    static func referrals(members: String) -> String {
        """
        SELECT m.id, m.first_card, rr.member_id, rrm.first_card, p.points,
               CAST(COALESCE((SELECT SUM(c.points) FROM hq_issued c WHERE c.member_id = m.id
                              AND c.idempotency_key LIKE 'reconcile:referral:%:new'), 0) AS BIGINT),
               CAST((SELECT COUNT(*) FROM hq_issued c WHERE c.member_id = m.id
                     AND c.idempotency_key LIKE 'reconcile:referral:%:new') AS BIGINT),
               substr(p.idempotency_key, 14),
               EXISTS (SELECT 1 FROM hq_issued x
                       WHERE x.idempotency_key = 'reconcile:referral_merged:' || substr(p.idempotency_key, 14) || ':new'),
               EXISTS (SELECT 1 FROM hq_cards rc WHERE rc.card = m.referred_by_card AND rc.member_id = rr.member_id)
        FROM hq_members m JOIN hq_issued p ON p.member_id = m.id AND p.idempotency_key LIKE 'referral:new:%'
        JOIN hq_issued rr ON rr.idempotency_key = 'referral:referrer:' || substr(p.idempotency_key, 14)
        JOIN hq_members rrm ON rrm.id = rr.member_id
        WHERE m.id \(members)
        ORDER BY m.id, p.created_at_ms, p.seq
        """
    }

    /// Every correction, newest first (the report): key, card, points, reason, time.
    /// Head office's corrections, newest first: the entries it wrote and the coupons it issued itself (0 points).
    static let report = """
        SELECT k, card, points, reason, at_ms, actor FROM (
            SELECT i.idempotency_key AS k, i.card AS card, i.points AS points, i.reason AS reason,
                   i.created_at_ms AS at_ms, i.issued_by AS actor, i.seq AS s
            FROM hq_issued i WHERE i.idempotency_key LIKE 'reconcile:%'
            UNION ALL
            SELECT 'coupon:' || c.coupon_code, m.first_card, 0, c.reason || ' (coupon ' || c.coupon_code || ')',
                   c.written_at_ms, c.issued_by, 0
            FROM hq_issued_coupons c JOIN hq_members m ON m.id = c.member_id WHERE c.reason LIKE 'reconcile:%'
        ) AS corrections
        ORDER BY at_ms DESC, s DESC LIMIT 10000
        """

    /// Folds the four queries' rows into facts by member.
    struct Folder {
        var facts: [Int64: MemberGrantFacts] = [:]

        mutating func member(id: Int64, card: String, firstImportedSale: Int64?) {
            var member = MemberGrantFacts(memberId: id, card: card)
            member.firstImportedSaleAtMilliseconds = firstImportedSale
            facts[id] = member
        }

        mutating func paid(memberId: Int64, storeId: String, reason: String, points: Int64, at: Int64) {
            guard let grant = OncePerMemberGrant.allCases.first(where: { $0.tillReason == reason }) else { return }
            facts[memberId]?.paid[grant, default: [:]][storeId, default: 0] += points
            if points > 0 {
                facts[memberId]?.payments[grant, default: 0] += 1
                let latest = facts[memberId]?.latestPaymentAtMilliseconds[grant] ?? at
                facts[memberId]?.latestPaymentAtMilliseconds[grant] = max(latest, at)
            }
        }

        mutating func correction(memberId: Int64, key: String, points: Int64) {
            // reconcile:MEMBER:GRANT:N
            let parts = key.split(separator: ":")
            guard parts.count == 4, let grant = OncePerMemberGrant(rawValue: String(parts[2])) else { return }
            facts[memberId]?.corrected[grant, default: .init()].points += points
            facts[memberId]?.corrected[grant, default: .init()].count += 1
        }

        mutating func referral(
            memberId: Int64, referrerMemberId: Int64, referrerCard: String, paid: Int64, corrected: Int64,
            corrections: Int64, referredCard: String, takenBackByMerge: Bool, stillReferred: Bool
        ) {
            guard facts[memberId] != nil else { return }
            if facts[memberId]!.referral == nil { referredNow[memberId] = stillReferred }
            guard facts[memberId]!.referral == nil else {
                if !takenBackByMerge {
                    facts[memberId]!.mergedReferrals.append(
                        .init(
                            referredCard: referredCard, referrerMemberId: referrerMemberId, referrerCard: referrerCard,
                            paid: paid))
                }
                return
            }
            facts[memberId]!.referral = MemberGrantFacts.PaidReferral(
                referrerMemberId: referrerMemberId, referrerCard: referrerCard,
                standing: ReferralStanding(
                    paid: paid, corrected: corrected, saleStands: false, selfReferral: referrerMemberId == memberId),
                corrections: Int(corrections))
        }

        /// Whether the member is still referred by the referrer it was paid for (its earliest enrolment named them).
        var referredNow: [Int64: Bool] = [:]

        /// Called after every row is in: a referral stands with the member's first standing sale, while the member
        /// is still referred by that referrer (a later-arriving earlier enrolment may name another, or none).
        mutating func finish() {
            for id in facts.keys where facts[id]?.referral != nil {
                facts[id]!.referral!.standing.saleStands =
                    facts[id]!.firstStandingSale != nil && referredNow[id] != false
            }
        }

        mutating func event(memberId: Int64, kind: String, storeId: String, seq: Int64, at: Int64, ruleVersion: Int) {
            let event = MemberGrantFacts.StoreEvent(
                storeId: storeId, seq: seq, atMilliseconds: at, ruleVersion: ruleVersion)
            if kind == "enroll" {
                if facts[memberId]?.firstEnrolment == nil { facts[memberId]?.firstEnrolment = event }
            } else if facts[memberId]?.firstStandingSale == nil {
                facts[memberId]?.firstStandingSale = event
            }
        }
    }
}

extension ReconciliationQueries {
    static func record(
        key: String, card: String, points: Int64, reason: String, at: Int64, by: String
    ) -> ReconciliationRecord {
        ReconciliationRecord(
            card: card, reasonCode: GrantCorrection.reasonCode(in: reason) ?? "reconcile", points: points,
            reason: reason,
            atMilliseconds: at, by: by)
    }
}
