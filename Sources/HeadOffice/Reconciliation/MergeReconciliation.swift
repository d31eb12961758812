public import Foundation
public import LoyaltyCore
import SyncProtocol

/// What head office corrected after two member records became one.
public struct MergeReconciliation: Sendable {
    public var grants: [GrantCorrection]
    /// The other corrections the merge made (returns taken at several stores, sale prices, the day cap).
    public var others: [ReconciliationRecord] = []
    /// Coupons withdrawn: the merged record's coupon of a rule the member already held.
    public var coupons: [String]
}

extension HeadOfficeStore {
    /// After `members merge` (or a provisional card joined a member): the once-per-member grants are
    /// corrected, and of each coupon rule the member keeps one coupon (a used one, else the earliest
    /// issued); the other open ones are withdrawn. Running it again changes nothing.
    @discardableResult
    public func reconcileAfterMerge(keep: String, actor: String, now: Date) async throws -> MergeReconciliation {
        // A record with a sale joined a referred one: the referral may be due now.
        try await grantReferralBonuses(now: now)
        let (grants, others) = try await reconcileMembers(cards: [keep], actor: actor, now: now)
        // A redemption one record overdrew, covered by the other record's points in sale order: no overdraft. Points
        // an expiry run took that the other record's history spent are given back, and listed (found by attack: the
        // listing left them out and did not add up to the balance's change).
        let givenBack = try await settleLateEntries(cards: [keep], actor: actor, now: now, expiredOnly: false)
        let settled = givenBack.sorted { $0.key < $1.key }.map { card, points in
            ReconciliationRecord(
                card: card, reasonCode: "reconcile:expired_twice", points: points,
                reason: "points an expiry run took were already spent or refunded in the merged history; given back",
                atMilliseconds: now.milliseconds, by: actor)
        }
        return MergeReconciliation(
            grants: grants, others: others + settled,
            coupons: try await reconcileCoupons(cards: [keep], actor: actor, now: now))
    }

    /// Of each coupon rule, the members holding `cards` keep one coupon (a used one, else the earliest
    /// issued); the other open ones are withdrawn — after a merge, or when a till that had not heard of the
    /// merge issues the merged record's coupon again. Returns the codes withdrawn.
    @discardableResult
    public func reconcileCoupons(cards: [String], actor: String, now: Date) async throws -> [String] {
        let cards = Array(Set(cards).prefix(Self.maximumMembersPerReconciliation))
        guard !cards.isEmpty else { return [] }
        var withdrawals: [(memberId: Int64, code: String)] = []
        for (memberId, coupons) in try await coupons(cards: cards) {
            withdrawals += OncePerMemberCoupons.surplus(coupons).map { (memberId, $0) }
        }
        _ = try await withdrawCoupons(
            withdrawals, reason: "reconcile:coupon_merged: one person holds each once-per-member coupon once",
            actor: actor, now: now)
        return withdrawals.map(\.code).sorted()
    }
}

/// Coupons are once per member and rule: of a member's coupons of one rule, the one that stands.
enum OncePerMemberCoupons {
    /// The open coupons beyond one per rule (the rule is the code's name before its last `-`): a used
    /// coupon stands first, else the earliest issued.
    static func surplus(_ coupons: [CouponState]) -> [String] {
        var byRule: [Substring: [CouponState]] = [:]
        for coupon in coupons where coupon.status != "voided" {
            guard let dash = coupon.code.lastIndex(of: "-") else { continue }
            byRule[coupon.code[..<dash], default: []].append(coupon)
        }
        return byRule.values.flatMap { group -> [String] in
            let ordered = group.sorted {
                ($0.status == "used" ? 0 : 1, $0.issuedAtMilliseconds, $0.code)
                    < ($1.status == "used" ? 0 : 1, $1.issuedAtMilliseconds, $1.code)
            }
            return ordered.dropFirst().filter { $0.status == "open" }.map(\.code)
        }.sorted()
    }
}
