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
}

/// A coupon head office issues itself: every till learns it with the member at its next sync.
public struct HeadOfficeCouponIssue: Hashable, Sendable {
    public var memberId: Int64
    public var code: String
    public var ruleVersion: Int
    public var issuedAtMilliseconds: Int64
    public var reason: String
}

/// SQL shared by the drivers; `members` is the driver's filter on `member_id`.
enum EarlyVisitCouponQueries {
    static func members(members: String) -> String {
        "SELECT id, first_card, enrolled_at_ms FROM hq_members WHERE id \(members)"
    }

    static func sales(members: String) -> String {
        """
        SELECT e.member_id, e.created_at_ms, e.rule_version FROM hq_entries e JOIN hq_members m ON m.id = e.member_id
        WHERE e.member_id \(members) AND e.kind = 'earn' AND e.created_at_ms >= m.enrolled_at_ms
        """
    }

    static func codes(members: String) -> String {
        """
        SELECT member_id, coupon_code FROM (SELECT member_id, coupon_code FROM hq_entries WHERE kind = 'coupon'
                                            UNION SELECT member_id, coupon_code FROM hq_issued_coupons) AS c
        WHERE member_id \(members)
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
        let hasRule = published.contains { release in
            release.program.coupons?.contains { rule in
                if case .earlyVisits = rule.trigger { true } else { false }
            } ?? false
        }
        let cards = Array(Set(cards).prefix(Self.maximumMembersPerReconciliation))
        guard hasRule, !cards.isEmpty else { return [] }
        var issues: [HeadOfficeCouponIssue] = []
        for member in try await visitFacts(cards: cards) {
            guard let enrolled = member.enrolledAtMilliseconds else { continue }
            let held = Set(member.codes.compactMap { code in code.lastIndex(of: "-").map { code[..<$0].lowercased() } })
            let due = EarlyVisitCoupons.due(enrolledAtMilliseconds: enrolled, sales: member.sales, held: held) { sale in
                HeadOfficeProgram.deciding(published, atMilliseconds: sale.atMilliseconds, recordedVersion: sale.ruleVersion)
            }
            for coupon in due {
                let key = published.first { $0.program.version == coupon.programVersion }?.program.couponKey
                let code = coupon.rule.code(card: member.firstCard, couponKey: key, digest: CouponRule.codeDigest)
                issues.append(
                    HeadOfficeCouponIssue(
                        memberId: member.memberId, code: code, ruleVersion: coupon.programVersion,
                        issuedAtMilliseconds: coupon.atMilliseconds,
                        reason: "reconcile:coupon_missing: the member's visits reached \(coupon.rule.name)'s count across "
                            + "stores; no till had seen them all"))
            }
        }
        _ = try await issueCoupons(issues, actor: actor, now: now)
        return issues.map(\.code)
    }
}
