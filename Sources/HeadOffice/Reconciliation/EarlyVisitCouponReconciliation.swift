import CouponCodes
public import Foundation
public import LoyaltyCore

/// What the early-visit coupons of one member are decided from: the first enrolment at any store, every store's
/// sales, and the coupons the member holds (issued by a till or by head office).
public struct MemberVisitFacts: Sendable {
    public var memberId: Int64
    public var firstCard: String
    public var enrolledAtMilliseconds: Int64?
    public var sales: [EarlyVisitCoupons.Sale] = []
    public var codes: Set<String> = []
    /// The coupons head office issued itself that are still open, with the sale that reached the count.
    public var openIssued: [(code: String, saleKey: String)] = []
}

/// A coupon head office issues itself: every till learns it with the member at its next sync.
public struct HeadOfficeCouponIssue: Hashable, Sendable {
    public var memberId: Int64
    public var code: String
    public var ruleVersion: Int
    public var issuedAtMilliseconds: Int64
    public var reason: String
    /// The sale that reached the count (`STORE:SEQ`): its full refund voids the coupon.
    public var saleStore: String
    public var saleSeq: Int64
}

/// SQL shared by the drivers; `members` is the driver's filter on `member_id`.
enum EarlyVisitCouponQueries {
    static func members(members: String) -> String {
        "SELECT id, first_card, enrolled_at_ms FROM hq_members WHERE id \(members)"
    }

    static func sales(members: String) -> String {
        """
        SELECT e.member_id, e.created_at_ms, e.rule_version, e.store_id, e.seq,
               CASE WHEN \(HeadOfficeSchema.saleStands) THEN 0 ELSE 1 END
        FROM hq_entries e JOIN hq_members m ON m.id = e.member_id
        WHERE e.member_id \(members) AND e.kind = 'earn' AND e.created_at_ms >= m.enrolled_at_ms
        """
    }

    static func codes(members: String) -> String {
        """
        SELECT member_id, coupon_code FROM hq_entries WHERE kind = 'coupon' AND member_id \(members)
        UNION SELECT member_id, coupon_code FROM hq_issued_coupons WHERE member_id \(members)
        """
    }

    /// Coupons head office issued, not used and not withdrawn: member, code, the sale that reached the count.
    static func openIssued(members: String) -> String {
        """
        SELECT i.member_id, i.coupon_code, i.sale_store || ':' || i.sale_seq FROM hq_issued_coupons i
        WHERE i.member_id \(members)
          AND NOT EXISTS (SELECT 1 FROM hq_coupon_withdrawals w WHERE w.coupon_code = i.coupon_code)
          AND NOT EXISTS (SELECT 1 FROM hq_entries u WHERE u.kind = 'coupon' AND u.reason = 'used' AND u.coupon_code = i.coupon_code)
        """
    }
}

extension HeadOfficeStore {
    /// Issues the early-visit coupons the always-online program would have issued to the members holding `cards`
    /// and no till did (the visits were spread over tills that had not synced): once per member and rule, dated
    /// at the sale that reached the count, with the code every till would have made. Running it again changes
    /// nothing. - Returns: the codes issued.
    @discardableResult
    public func reconcileEarlyVisitCoupons(cards: [String], actor: String, now: Date) async throws -> [String] {
        let published = try await programs()
        // Enrolment coupons too: a till that had not received the program enrolled without it (found by attack).
        let hasRule = published.contains { release in !(release.program.coupons ?? []).isEmpty }
        let cards = Array(Set(cards).prefix(Self.maximumMembersPerReconciliation))
        guard hasRule, !cards.isEmpty else { return [] }
        var issues: [HeadOfficeCouponIssue] = []
        var voided: [(memberId: Int64, code: String)] = []
        for member in try await visitFacts(cards: cards) {
            // A coupon head office issued goes with the full refund of the sale that reached the count.
            let refunded = Set(member.sales.filter(\.fullyRefunded).map(\.key))
            voided += member.openIssued.filter { refunded.contains($0.saleKey) }.map { (member.memberId, $0.code) }
            guard let enrolled = member.enrolledAtMilliseconds else { continue }
            let held = Set(member.codes.compactMap { code in code.lastIndex(of: "-").map { code[..<$0].lowercased() } })
            let due = EarlyVisitCoupons.due(enrolledAtMilliseconds: enrolled, sales: member.sales, held: held) { sale in
                HeadOfficeProgram.deciding(
                    published, atMilliseconds: sale.atMilliseconds, recordedVersion: sale.ruleVersion)
            }
            let atEnrolment = HeadOfficeProgram.deciding(published, atMilliseconds: enrolled, recordedVersion: 0)
            for rule in atEnrolment.coupons ?? []
            where rule.trigger == .enrolment && !held.contains(rule.name.lowercased()) {
                issues.append(
                    HeadOfficeCouponIssue(
                        memberId: member.memberId,
                        code: rule.code(
                            card: member.firstCard, couponKey: atEnrolment.couponKey, digest: CouponRule.codeDigest),
                        ruleVersion: atEnrolment.version, issuedAtMilliseconds: enrolled,
                        reason:
                            "reconcile:coupon_missing: \(rule.name) is given at enrolment; the till that enrolled the "
                            + "member did not have the program yet",
                        saleStore: "", saleSeq: 0))
            }
            for coupon in due {
                let key = published.first { $0.program.version == coupon.programVersion }?.program.couponKey
                let code = coupon.rule.code(card: member.firstCard, couponKey: key, digest: CouponRule.codeDigest)
                issues.append(
                    HeadOfficeCouponIssue(
                        memberId: member.memberId, code: code, ruleVersion: coupon.programVersion,
                        issuedAtMilliseconds: coupon.atMilliseconds,
                        reason:
                            "reconcile:coupon_missing: the member's visits reached \(coupon.rule.name)'s count across "
                            + "stores; no till had seen them all",
                        saleStore: String(coupon.sale.key.split(separator: ":").first ?? ""),
                        saleSeq: Int64(coupon.sale.key.split(separator: ":").last ?? "") ?? 0))
            }
        }
        _ = try await issueCoupons(issues, actor: actor, now: now)
        _ = try await withdrawCoupons(
            voided, reason: "reconcile:coupon_voided: the sale that reached the coupon's count was fully refunded",
            actor: actor, now: now)
        return issues.map(\.code)
    }
}
