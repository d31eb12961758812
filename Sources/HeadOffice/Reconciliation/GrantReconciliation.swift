public import Foundation
public import LoyaltyCore

/// One correction head office made, for `loyalty-hq report reconciliations`.
public struct ReconciliationRecord: Codable, Hashable, Sendable {
    public var card: String
    /// `reconcile:first_purchase_twice`, …
    public var reasonCode: String
    public var points: Int64
    /// What a person reads: the rule and the stores involved.
    public var reason: String
    public var atMilliseconds: Int64
    /// What made it: `ingest`, `members merge`, `reconcile`.
    public var by: String
}

extension HeadOfficeStore {
    /// The most members one reconciliation looks at (a batch holds at most ``PushBatch/maximumEntries``).
    public static var maximumMembersPerReconciliation: Int { 1_000 }

    /// Corrects the once-per-member grants (enrolment and first-purchase bonuses) of the members holding
    /// `cards`, so each holds exactly what the always-online program gives, with a visible `adjust`
    /// entry per difference (reason `reconcile:…`, the stores involved). Running it again changes nothing.
    /// - Returns: the corrections written.
    @discardableResult
    public func reconcileGrants(cards: [String], actor: String, now: Date) async throws -> [GrantCorrection] {
        try await reconcileMembers(cards: cards, actor: actor, now: now).grants
    }

    /// ``reconcileGrants(cards:actor:now:)``, with the other corrections it makes on the way (returns taken at
    /// several stores, sale prices, the day cap) as written: what `members merge` lists.
    public func reconcileMembers(
        cards: [String], actor: String, now: Date
    ) async throws -> (grants: [GrantCorrection], others: [ReconciliationRecord]) {
        let cards = Array(Set(cards).prefix(Self.maximumMembersPerReconciliation))
        guard !cards.isEmpty else { return ([], []) }
        // Returns of one sale taken at several stores, counted together first: whether a sale stands (the
        // grants below) and the day cap count them.
        var others = try await reconcileReturns(cards: cards, actor: actor, now: now)
        let published = try await programs()
        let facts = try await grantFacts(cards: cards)
        var requests: [IssuedEntryRequest] = []
        var corrections: [GrantCorrection] = []
        for member in facts.sorted(by: { $0.memberId < $1.memberId }) {
            let standings = member.standings { event in
                HeadOfficeProgram.deciding(
                    published, atMilliseconds: event.atMilliseconds, recordedVersion: event.ruleVersion)
            }
            for standing in standings {
                guard let correction = standing.correction else { continue }
                // The count of earlier corrections makes the key: two processes that find the same work
                // write it once; new work later gets a new key. The member's first card, never its row id:
                // a merge deletes a row, and SQLite may give its id to the next member.
                let key =
                    "reconcile:\(member.card):\(standing.grant.rawValue):\(member.corrected[standing.grant]?.count ?? 0)"
                requests.append(
                    IssuedEntryRequest(
                        memberId: member.memberId, card: member.card, kind: .adjust, points: correction.points,
                        reason: correction.reason, idempotencyKey: key, createdAtMilliseconds: now.milliseconds,
                        countsAtMilliseconds: member.countsAtMilliseconds(correcting: standing.grant, by: correction.points)))
                corrections.append(correction)
            }
            // The referral stands with the new member's sale: both sides corrected alike.
            if let referral = member.referral, let (points, code) = referral.standing.correction {
                let key = "reconcile:referral:\(member.card):\(referral.corrections)"
                let why =
                    referral.standing.selfReferral
                    ? "the referrer and the referred member are one person (records merged)"
                    : points < 0
                        ? "the referred member's purchases were all refunded"
                        : "a purchase of the referred member stands again"
                requests.append(
                    IssuedEntryRequest(
                        memberId: member.memberId, card: member.card, kind: .adjust, points: points,
                        reason: "\(code): referral bonus, \(why)", idempotencyKey: key + ":new",
                        createdAtMilliseconds: now.milliseconds))
                requests.append(
                    IssuedEntryRequest(
                        memberId: referral.referrerMemberId, card: referral.referrerCard, kind: .adjust, points: points,
                        reason: "\(code): referral bonus for card ending \(member.card.suffix(4)), \(why)",
                        idempotencyKey: key + ":referrer", createdAtMilliseconds: now.milliseconds))
                // One per entry written (the new member's and the referrer's), so the list adds up.
                let correction = GrantCorrection(grant: .referral, points: points, reasonCode: code, stores: [])
                corrections += [correction, correction]
            }
            // Records merged into this member were each referred: one person enrols once.
            for merged in member.mergedReferrals {
                let key = "reconcile:referral_merged:\(merged.referredCard)"
                let code = "reconcile:referral_merged"
                let why =
                    "card ending \(merged.referredCard.suffix(4)) was merged into the member holding card ending "
                    + "\(member.card.suffix(4)), who was referred once"
                requests.append(
                    IssuedEntryRequest(
                        memberId: member.memberId, card: member.card, kind: .adjust, points: -merged.paid,
                        reason: "\(code): referral bonus, \(why)", idempotencyKey: key + ":new",
                        createdAtMilliseconds: now.milliseconds))
                requests.append(
                    IssuedEntryRequest(
                        memberId: merged.referrerMemberId, card: merged.referrerCard, kind: .adjust,
                        points: -merged.paid,
                        reason: "\(code): referral bonus for card ending \(merged.referredCard.suffix(4)), \(why)",
                        idempotencyKey: key + ":referrer", createdAtMilliseconds: now.milliseconds))
                let correction = GrantCorrection(grant: .referral, points: -merged.paid, reasonCode: code, stores: [])
                corrections += [correction, correction]
            }
        }
        _ = try await issue(requests, actor: actor, now: now)
        // Each sale at the tier the member held chain-wide then, at the time it counts; before the day cap, which
        // counts the sales' corrected points.
        others += try await reconcileSalePrices(cards: cards, actor: actor, now: now)
        // Early-visit coupons no till could issue (the visits spread over tills that had not synced).
        try await reconcileEarlyVisitCoupons(cards: cards, actor: actor, now: now)
        // The per-day cap, decided from the same facts (every store's sales of the member).
        others += try await reconcileDayCaps(cards: cards, actor: actor, now: now)
        return (corrections, others)
    }
}
