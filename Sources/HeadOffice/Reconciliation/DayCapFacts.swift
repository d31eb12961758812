public import Foundation
public import LoyaltyCore

/// What the per-day cap of one member is decided from: every store's sales with what refunds took back,
/// and head office's earlier day-cap corrections by day.
public struct MemberDayCapFacts: Sendable {
    public struct Sale: Hashable, Sendable {
        public var storeId: String
        public var seq: Int64
        public var atMilliseconds: Int64
        public var points: Int64
        public var ruleVersion: Int
        public var refunds: [CappedSale.Refund] = []
        /// Head office's corrections of the sale's price (after returns took their share), and the whole
        /// difference before they did (``reconcileSalePrices``).
        public var priceCorrection: Int64 = 0
        public var fullPriceDelta: Int64?
        /// What the till said the sale earned before the per-sale and per-day caps (nil: not said), and its amount.
        public var pointsBeforeCaps: Int64?
        public var amountMinor: Int64 = 0

        /// What the sale earns before the per-day cap, at head office's price: what the till priced before its caps,
        /// under the per-sale cap, with the repricing difference (nil when the till did not say).
        func uncapped(perSaleCapPoints: Int64?) -> Int64? {
            guard let before = pointsBeforeCaps else { return nil }
            let tillPrice = perSaleCapPoints.map { min(before, $0) } ?? before
            return max(0, tillPrice + (fullPriceDelta ?? 0))
        }

        /// What the sale granted, and its refunds, with head office's repricing: the whole difference granted
        /// with the sale, the share returns took of it taken with the newest refund.
        func priced(refunds: [CappedSale.Refund]) -> (granted: Int64, refunds: [CappedSale.Refund]) {
            guard let full = fullPriceDelta else { return (max(0, points + priceCorrection), refunds) }
            var adjusted = refunds.sorted { $0.atMilliseconds < $1.atMilliseconds }
            if let last = adjusted.indices.last {
                adjusted[last].points = min(0, adjusted[last].points - (full - priceCorrection))
            }
            return (max(0, points + full), adjusted)
        }
    }

    public var memberId: Int64
    public var card: String
    public var sales: [Sale] = []
    /// Net points of earlier corrections, and how many, by chain day.
    public var corrected: [String: (points: Int64, count: Int)] = [:]
}

/// SQL shared by the drivers; `members` is the driver's `IN (…)` over the cards' members.
enum DayCapQueries {
    static func sales(members: String) -> String {
        """
        SELECT e.member_id, m.first_card, e.store_id, e.seq, e.created_at_ms, e.points, e.rule_version,
               e.points_before_caps, e.amount_minor
        FROM hq_entries e JOIN hq_members m ON m.id = e.member_id
        WHERE e.member_id \(members) AND e.kind = 'earn'
        ORDER BY e.member_id, e.created_at_ms, e.store_id, e.seq
        """
    }

    /// Returns of sales: member, store, the sale's seq, time, points taken back. Returns that took no points
    /// count too: head office's correction of returns at several stores may fall on them (found by the chain
    /// simulation: a line returned in two parts at two stores, each taking 0, corrected by -1 that the day
    /// cap then never saw).
    static func refunds(members: String) -> String {
        """
        SELECT r.member_id, COALESCE(r.refers_to_store, r.store_id), r.refers_to_seq, r.created_at_ms, r.points,
               r.amount_minor
        FROM hq_entries r
        WHERE r.member_id \(members) AND r.kind = 'reverse' AND r.points <= 0 AND r.refers_to_seq IS NOT NULL
        """
    }

    /// Head office's corrections of returns taken at several stores: key (`reconcile:return:STORE:SEQ:N`),
    /// points (given back when positive). They count as part of the sale's refunds.
    static func returnCorrections(members: String) -> String {
        """
        SELECT member_id, idempotency_key, points FROM hq_issued
        WHERE kind = 'adjust' AND idempotency_key LIKE 'reconcile:return:%' AND member_id \(members)
        """
    }

    /// Head office's corrections of sale prices (``SaleRepricingQueries``): part of what the sale granted.
    static func priceCorrections(members: String) -> String { SaleRepricingQueries.corrections(members: members) }

    /// Each repriced sale's whole difference: `STORE:SEQ`, points.
    static func salePrices(members: String) -> String {
        """
        SELECT p.store_id || ':' || p.seq, p.full_delta FROM hq_sale_prices p
        JOIN hq_entries e ON e.store_id = p.store_id AND e.seq = p.seq WHERE e.member_id \(members)
        """
    }

    /// Earlier corrections: member, key (`reconcile:day_cap:MEMBER:DAY:N`), points.
    static func corrections(members: String) -> String {
        """
        SELECT member_id, idempotency_key, points FROM hq_issued
        WHERE kind = 'adjust' AND idempotency_key LIKE 'reconcile:day_cap:%' AND member_id \(members)
        """
    }

    /// Folds the three queries' rows into facts by member.
    struct Folder {
        var facts: [Int64: MemberDayCapFacts] = [:]
        private var saleIndex: [String: (member: Int64, index: Int)] = [:]

        mutating func sale(
            memberId: Int64, card: String, storeId: String, seq: Int64, at: Int64, points: Int64, rule: Int,
            pointsBeforeCaps: Int64?, amountMinor: Int64
        ) {
            if facts[memberId] == nil { facts[memberId] = MemberDayCapFacts(memberId: memberId, card: card) }
            saleIndex["\(storeId):\(seq)"] = (memberId, facts[memberId]!.sales.count)
            var sale = MemberDayCapFacts.Sale(storeId: storeId, seq: seq, atMilliseconds: at, points: points, ruleVersion: rule)
            sale.pointsBeforeCaps = pointsBeforeCaps
            sale.amountMinor = amountMinor
            facts[memberId]!.sales.append(sale)
        }

        mutating func refund(storeId: String, saleSeq: Int64, at: Int64, points: Int64, amountMinor: Int64) {
            // Refunds of bonuses or of sales another member holds now are not this member's sales.
            guard let (member, index) = saleIndex["\(storeId):\(saleSeq)"] else { return }
            facts[member]!.sales[index].refunds.append(.init(atMilliseconds: at, points: points, amountMinor: amountMinor))
        }

        /// A correction of the sale's returns (taken at several stores): the refunds took `points` less
        /// (positive) or more, taken off the newest refunds first; never beyond what they took.
        mutating func returnCorrection(key: String, points: Int64) {
            guard let sale = ReturnReconciliationQueries.sale(ofKey: key), !sale.restore,
                let (member, index) = saleIndex["\(sale.store):\(sale.seq)"]
            else { return }
            var left = points
            var refunds = facts[member]!.sales[index].refunds.sorted { $0.atMilliseconds < $1.atMilliseconds }
            for position in refunds.indices.reversed() where left != 0 {
                let give = left > 0 ? min(left, -refunds[position].points) : left
                refunds[position].points += give
                left -= give
            }
            facts[member]!.sales[index].refunds = refunds
        }

        /// A correction of the sale's price: the sale granted that much more (or less).
        mutating func priceCorrection(key: String, points: Int64) {
            guard let sale = SaleRepricingQueries.sale(ofKey: key), let (member, index) = saleIndex[sale] else { return }
            facts[member]!.sales[index].priceCorrection += points
        }

        mutating func salePrice(sale: String, fullDelta: Int64) {
            guard let (member, index) = saleIndex[sale] else { return }
            facts[member]!.sales[index].fullPriceDelta = fullDelta
        }

        mutating func correction(memberId: Int64, key: String, points: Int64) {
            let parts = key.split(separator: ":")
            guard parts.count == 5, facts[memberId] != nil else { return }
            let day = String(parts[3])
            let earlier = facts[memberId]!.corrected[day] ?? (0, 0)
            facts[memberId]!.corrected[day] = (earlier.points + points, earlier.count + 1)
        }
    }
}

extension HeadOfficeStore {
    /// Corrects the members holding `cards` so that each chain day holds no more than the per-day cap
    /// lets the always-online program grant, in sale order (two tills offline can each grant up to the
    /// cap). One `adjust` per day and change (`reconcile:day_cap_exceeded`, or `…_restored` when a refund
    /// made an earlier correction too large). Nothing to do when no published program has a day cap.
    @discardableResult
    public func reconcileDayCaps(cards: [String], actor: String, now: Date) async throws -> [ReconciliationRecord] {
        let published = try await programs()
        guard published.contains(where: { $0.program.earningRules?.perMemberDayCapPoints != nil }) else { return [] }
        let cards = Array(Set(cards).prefix(Self.maximumMembersPerReconciliation))
        guard !cards.isEmpty else { return [] }
        var calendars: [String: ChainCalendar] = [:]
        var requests: [IssuedEntryRequest] = []
        var records: [ReconciliationRecord] = []
        // A sale returned at several stores (each from its own view): its returns count as the always-online
        // program would have taken them, each at its moment (found by the chain simulation: a point a later
        // correction took back counted at the newest return, not at the return that should have taken it,
        // and the day's later sales kept one point more or less than the oracle).
        var recounted: [String: [CappedSale.Refund]] = [:]
        for sale in try await returnFacts(cards: cards) {
            guard
                let taken = ReturnRecount.takenBackByReturn(
                    saleMinor: sale.saleMinor, earnedPoints: sale.points, redeemedPoints: sale.redeemedPoints,
                    lines: sale.lines, returns: sale.returns)
            else { continue }
            recounted["\(sale.storeId):\(sale.seq)"] = taken.map {
                .init(atMilliseconds: $0.atMilliseconds, points: -$0.points)
            }
        }
        for member in try await dayCapFacts(cards: cards).sorted(by: { $0.memberId < $1.memberId }) {
            var sales: [CappedSale] = []
            for sale in member.sales {
                // Judged like the grants: the version in force then (always online), or the newer one recorded.
                let rules = HeadOfficeProgram.deciding(
                    published, atMilliseconds: sale.atMilliseconds, recordedVersion: sale.ruleVersion
                ).earningRules
                let zone = rules?.timeZone ?? "UTC"
                if calendars[zone] == nil {
                    calendars[zone] = try (try? ChainCalendar(identifier: zone)) ?? ChainCalendar(identifier: "UTC")
                }
                let day = ChainCalendar.string(day: calendars[zone]!.day(milliseconds: sale.atMilliseconds))
                // Recounted returns keep the amounts they gave back (what is left of a sale granted no points).
                let recountedRefunds = recounted["\(sale.storeId):\(sale.seq)"].map { refunds in
                    refunds.map { refund in
                        var refund = refund
                        refund.amountMinor = sale.refunds.filter { $0.atMilliseconds == refund.atMilliseconds }
                            .reduce(0) { $0 + $1.amountMinor }
                        return refund
                    }
                }
                let priced = sale.priced(refunds: recountedRefunds ?? sale.refunds)
                sales.append(
                    CappedSale(
                        storeId: sale.storeId, atMilliseconds: sale.atMilliseconds, day: day, granted: priced.granted,
                        uncapped: sale.uncapped(perSaleCapPoints: rules?.perSaleCapPoints), amountMinor: sale.amountMinor,
                        dayCapPoints: rules?.perMemberDayCapPoints, refunds: priced.refunds))
            }
            for excess in DayCapReconciliation.excess(of: sales) {
                let earlier = member.corrected[excess.day] ?? (0, 0)
                let points = -excess.points - earlier.points
                guard points != 0 else { continue }
                let code = points < 0 ? "reconcile:day_cap_exceeded" : "reconcile:day_cap_restored"
                let reason =
                    points < 0
                    ? "\(code): the points of \(excess.day) went beyond what its day cap lets one always-online till grant "
                        + "(sales at \(excess.stores.joined(separator: ", ")); returns take back their share)"
                    : "\(code): refunds of \(excess.day) left the day under its cap (a till capped a sale by more than it had to, "
                        + "or a refund made an earlier correction too large)"
                let key = "reconcile:day_cap:\(member.card):\(excess.day):\(earlier.count)"
                // Counted in 12-month figures on the day it corrects (found by attack: points the cap took back
                // still held a tier by points until the correction's own date).
                let lastSale = sales.filter { $0.day == excess.day }.map(\.atMilliseconds).max()
                requests.append(
                    IssuedEntryRequest(
                        memberId: member.memberId, card: member.card, kind: .adjust, points: points, reason: reason,
                        idempotencyKey: key, createdAtMilliseconds: now.milliseconds, countsAtMilliseconds: lastSale))
                records.append(
                    ReconciliationRecord(
                        card: member.card, reasonCode: code, points: points, reason: reason,
                        atMilliseconds: now.milliseconds,
                        by: actor))
            }
        }
        _ = try await issue(requests, actor: actor, now: now)
        return records
    }
}
