public import Foundation
public import LoyaltyCore
import SyncProtocol

/// One sale returned at least once at another store than the one that sold, with every return of it
/// and head office's earlier corrections: what ``HeadOfficeStore/reconcileReturns(cards:actor:now:)`` judges.
public struct SaleReturnFacts: Sendable {
    public var memberId: Int64
    public var card: String
    public var storeId: String
    public var seq: Int64
    public var receipt: String
    public var saleMinor: Int64
    public var points: Int64
    /// The sale's lines as they travelled (nil: recorded without, or before lines travelled).
    public var lines: [(amountMinor: Int64, points: Int64)]?
    public var returns: [ReturnRecount.Return] = []
    /// The receipt's redemption at the selling store (its seq and the points it spent), and what returns
    /// gave back of it.
    public var redeemSeq: Int64?
    public var redeemedPoints: Int64 = 0
    public var restoredPoints: Int64 = 0
    /// The stores that took the returns, and the newest return's time.
    public var returnStores: Set<String> = []
    public var latestReturnMilliseconds: Int64 = 0
    /// Net points and count of earlier corrections of this sale's returns: of the earned points they took
    /// back (`reconcile:return:…`) and of the redeemed points they gave back (`reconcile:restore:…`).
    public var corrected: (points: Int64, count: Int) = (0, 0)
    public var correctedRestore: (points: Int64, count: Int) = (0, 0)
}

/// SQL shared by the drivers; `members` is the driver's `IN (…)` over the cards' members.
enum ReturnReconciliationQueries {
    /// The members' sales that another store returned (part of), and their redemptions made with no sale on
    /// the receipt that another store gave back (as a sale of nothing that redeemed them; found by attack: given
    /// back at two tills, 30 points were created). `d.kind IN ('earn', 'redeem')` is the receipt
    /// index's condition, written out so SQLite uses it (fleet-benchmark: without it SQLite read every entry of
    /// the store for each sale, 40 ms a batch after 40,000 entries, growing with the store's history).
    static func sales(members: String) -> String {
        """
        SELECT e.member_id, m.first_card, e.store_id, e.seq, e.receipt, e.amount_minor, e.points, e.sale_lines,
               d.seq, COALESCE(-d.points, 0)
        FROM hq_entries e JOIN hq_members m ON m.id = e.member_id
        LEFT JOIN hq_entries d ON d.receipt = e.receipt AND d.store_id = e.store_id AND d.kind = 'redeem'
                               AND d.kind IN ('earn', 'redeem')
        WHERE e.member_id \(members) AND e.kind = 'earn'
          AND EXISTS (SELECT 1 FROM hq_entries r WHERE r.kind = 'reverse' AND r.refers_to_store = e.store_id
                                                  AND (r.refers_to_seq = e.seq OR r.refers_to_seq = d.seq))
        UNION ALL
        SELECT d.member_id, m.first_card, d.store_id, d.seq, d.receipt, 0, 0, NULL, d.seq, -d.points
        FROM hq_entries d JOIN hq_members m ON m.id = d.member_id
        WHERE d.member_id \(members) AND d.kind = 'redeem'
          AND NOT EXISTS (SELECT 1 FROM hq_entries e WHERE e.receipt = d.receipt AND e.store_id = d.store_id
                                                     AND e.kind = 'earn' AND e.kind IN ('earn', 'redeem'))
          AND EXISTS (SELECT 1 FROM hq_entries r WHERE r.kind = 'reverse' AND r.refers_to_store = d.store_id
                                                  AND r.refers_to_seq = d.seq)
        """
    }

    /// Every return that took points or money back, or gave redeemed points back: the store and seq of
    /// the entry it refers to, amount, points, lines, the returning store and time.
    static func returns(members: String) -> String {
        """
        SELECT COALESCE(r.refers_to_store, r.store_id), r.refers_to_seq, r.amount_minor, r.points, r.returned_lines,
               r.store_id, r.created_at_ms
        FROM hq_entries r
        WHERE r.member_id \(members) AND r.kind = 'reverse' AND r.refers_to_seq IS NOT NULL
        """
    }

    /// Earlier corrections: member, key (`reconcile:return:STORE:SEQ:N`, `reconcile:restore:…`), points.
    static func corrections(members: String) -> String {
        """
        SELECT member_id, idempotency_key, points FROM hq_issued
        WHERE kind = 'adjust' AND (idempotency_key LIKE 'reconcile:return:%' OR idempotency_key LIKE 'reconcile:restore:%')
          AND member_id \(members)
        """
    }

    /// The sale (store, seq) a correction's key names, and whether it corrects redeemed points given back.
    static func sale(ofKey key: String) -> (store: String, seq: Int64, restore: Bool)? {
        let parts = key.split(separator: ":")
        guard parts.count == 5, parts[0] == "reconcile", parts[1] == "return" || parts[1] == "restore",
            let seq = Int64(parts[3])
        else { return nil }
        return (String(parts[2]), seq, parts[1] == "restore")
    }

    /// Folds the three queries' rows into facts by sale.
    struct Folder {
        var facts: [String: SaleReturnFacts] = [:]
        /// A redemption's (store:seq) → its sale's.
        private var redemptions: [String: String] = [:]

        mutating func sale(
            memberId: Int64, card: String, storeId: String, seq: Int64, receipt: String, amount: Int64, points: Int64,
            linesText: String?, redeemSeq: Int64?, redeemed: Int64
        ) {
            var sale = SaleReturnFacts(
                memberId: memberId, card: card, storeId: storeId, seq: seq, receipt: receipt, saleMinor: amount,
                points: points,
                lines: SyncEntry.decodedLines(linesText, as: SyncSaleLine.self)?.map { ($0.amountMinor, $0.points) })
            sale.redeemSeq = redeemSeq
            sale.redeemedPoints = max(0, redeemed)
            facts["\(storeId):\(seq)"] = sale
            if let redeemSeq { redemptions["\(storeId):\(redeemSeq)"] = "\(storeId):\(seq)" }
        }

        mutating func refund(
            saleStore: String, saleSeq: Int64, amount: Int64, points: Int64, linesText: String?, by store: String,
            at: Int64
        ) {
            if let sale = redemptions["\(saleStore):\(saleSeq)"], points > 0 {
                facts[sale]!.restoredPoints += points
                facts[sale]!.returnStores.insert(store)
                facts[sale]!.latestReturnMilliseconds = max(facts[sale]!.latestReturnMilliseconds, at)
                return
            }
            let key = "\(saleStore):\(saleSeq)"
            guard facts[key] != nil, points <= 0 else { return }
            facts[key]!.returns.append(
                ReturnRecount.Return(
                    amountMinor: amount, points: points,
                    lines: SyncEntry.decodedLines(linesText, as: SyncLineReturn.self)?.map { ($0.line, $0.amountMinor) },
                    atMilliseconds: at
                ))
            facts[key]!.returnStores.insert(store)
            facts[key]!.latestReturnMilliseconds = max(facts[key]!.latestReturnMilliseconds, at)
        }

        mutating func correction(key: String, points: Int64) {
            guard let sale = ReturnReconciliationQueries.sale(ofKey: key), facts["\(sale.store):\(sale.seq)"] != nil
            else {
                return
            }
            let key = "\(sale.store):\(sale.seq)"
            if sale.restore {
                let earlier = facts[key]!.correctedRestore
                facts[key]!.correctedRestore = (earlier.points + points, earlier.count + 1)
            } else {
                let earlier = facts[key]!.corrected
                facts[key]!.corrected = (earlier.points + points, earlier.count + 1)
            }
        }
    }
}

extension HeadOfficeStore {
    /// Corrects what returns taken at several stores did to one sale, so that together they took back
    /// earned points and gave back redeemed points exactly as one always-online till would have (a store
    /// returning from a stale view can take a line twice, give redeemed points back twice, or round apart):
    /// an `adjust` per sale, kind and change (`reconcile:returned_twice` / `…_return_short` for earned
    /// points, `reconcile:restored_twice` / `…_restore_short` for redeemed ones). Running it again changes
    /// nothing.
    @discardableResult
    public func reconcileReturns(cards: [String], actor: String, now: Date) async throws -> [ReconciliationRecord] {
        let cards = Array(Set(cards).prefix(Self.maximumMembersPerReconciliation))
        guard !cards.isEmpty else { return [] }
        var requests: [IssuedEntryRequest] = []
        var records: [ReconciliationRecord] = []
        var overlaps: [(storeId: String, seq: Int64, amountMinor: Int64)] = []
        for sale in try await returnFacts(cards: cards).sorted(by: { ($0.storeId, $0.seq) < ($1.storeId, $1.seq) }) {
            let redemptionAlone = sale.saleMinor == 0 && sale.redeemSeq == sale.seq
            guard
                let expected = redemptionAlone
                    ? ReturnRecount.givingBackARedemption(redeemedPoints: sale.redeemedPoints)
                    : ReturnRecount.expected(
                        saleMinor: sale.saleMinor, earnedPoints: sale.points, redeemedPoints: sale.redeemedPoints,
                        lines: sale.lines, returns: sale.returns)
            else { continue }
            let taken = -sale.returns.reduce(0) { $0 + $1.points }
            let refunded = -sale.returns.reduce(0) { $0 + $1.amountMinor }
            overlaps.append((sale.storeId, sale.seq, max(0, refunded - expected.returnedMinor)))
            let stores = sale.returnStores.sorted().joined(separator: ", ")
            let what = "returns of receipt \(sale.receipt) (sold at \(sale.storeId); returned at \(stores))"
            // Earned points the returns took back, then redeemed points they gave back, each against what one
            // always-online till's returns would have done. Apart: the day cap counts only the first.
            let earned = (taken - sale.corrected.points) - expected.takeBack
            let restored = expected.restore - (sale.restoredPoints + sale.correctedRestore.points)
            let corrections: [(points: Int64, code: String, reason: String, key: String)] = [
                (
                    earned, earned > 0 ? "reconcile:returned_twice" : "reconcile:return_short",
                    "took back \(taken) earned points; what was returned earned \(expected.takeBack)",
                    "reconcile:return:\(sale.storeId):\(sale.seq):\(sale.corrected.count)"
                ),
                (
                    restored, restored > 0 ? "reconcile:restore_short" : "reconcile:restored_twice",
                    "gave back \(sale.restoredPoints) redeemed points; what was returned redeemed \(expected.restore)",
                    "reconcile:restore:\(sale.storeId):\(sale.seq):\(sale.correctedRestore.count)"
                ),
            ]
            for correction in corrections where correction.points != 0 {
                let reason = "\(correction.code): \(what) \(correction.reason)"
                requests.append(
                    IssuedEntryRequest(
                        memberId: sale.memberId, card: sale.card, kind: .adjust, points: correction.points,
                        reason: reason,
                        idempotencyKey: correction.key,
                        // At the return's time: the day and its cap count the return as it should have been.
                        createdAtMilliseconds: sale.latestReturnMilliseconds))
                records.append(
                    ReconciliationRecord(
                        card: sale.card, reasonCode: correction.code, points: correction.points, reason: reason,
                        atMilliseconds: now.milliseconds, by: actor))
            }
        }
        try await recordReturnOverlaps(overlaps)
        _ = try await issue(requests, actor: actor, now: now)
        return records
    }
}
