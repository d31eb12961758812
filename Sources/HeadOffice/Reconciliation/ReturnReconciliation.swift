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
    /// The stores that took the returns, and the newest return's time.
    public var returnStores: Set<String> = []
    public var latestReturnMilliseconds: Int64 = 0
    /// Net points and count of earlier corrections of this sale's returns.
    public var corrected: (points: Int64, count: Int) = (0, 0)
}

/// SQL shared by the drivers; `members` is the driver's `IN (…)` over the cards' members.
enum ReturnReconciliationQueries {
    /// The members' sales that another store returned (part of).
    static func sales(members: String) -> String {
        """
        SELECT e.member_id, m.first_card, e.store_id, e.seq, e.receipt, e.amount_minor, e.points, e.sale_lines
        FROM hq_entries e JOIN hq_members m ON m.id = e.member_id
        WHERE e.member_id \(members) AND e.kind = 'earn'
          AND EXISTS (SELECT 1 FROM hq_entries r WHERE r.kind = 'reverse' AND r.refers_to_seq = e.seq
                                                  AND r.refers_to_store = e.store_id)
        """
    }

    /// Every return that took points or money back: the sale's store and seq, amount, points, lines,
    /// the returning store and time.
    static func returns(members: String) -> String {
        """
        SELECT COALESCE(r.refers_to_store, r.store_id), r.refers_to_seq, r.amount_minor, r.points, r.returned_lines,
               r.store_id, r.created_at_ms
        FROM hq_entries r
        WHERE r.member_id \(members) AND r.kind = 'reverse' AND r.refers_to_seq IS NOT NULL AND r.points <= 0
        """
    }

    /// Earlier corrections: member, key (`reconcile:return:STORE:SEQ:N`), points.
    static func corrections(members: String) -> String {
        """
        SELECT member_id, idempotency_key, points FROM hq_issued
        WHERE kind = 'adjust' AND idempotency_key LIKE 'reconcile:return:%' AND member_id \(members)
        """
    }

    /// The sale (store, seq) a return correction's key names.
    static func sale(ofKey key: String) -> (store: String, seq: Int64)? {
        let parts = key.split(separator: ":")
        guard parts.count == 5, parts[0] == "reconcile", parts[1] == "return", let seq = Int64(parts[3]) else {
            return nil
        }
        return (String(parts[2]), seq)
    }

    /// Folds the three queries' rows into facts by sale.
    struct Folder {
        var facts: [String: SaleReturnFacts] = [:]

        mutating func sale(
            memberId: Int64, card: String, storeId: String, seq: Int64, receipt: String, amount: Int64, points: Int64,
            linesText: String?
        ) {
            facts["\(storeId):\(seq)"] = SaleReturnFacts(
                memberId: memberId, card: card, storeId: storeId, seq: seq, receipt: receipt, saleMinor: amount,
                points: points,
                lines: SyncEntry.decodedLines(linesText, as: SyncSaleLine.self)?.map { ($0.amountMinor, $0.points) })
        }

        mutating func refund(
            saleStore: String, saleSeq: Int64, amount: Int64, points: Int64, linesText: String?, by store: String,
            at: Int64
        ) {
            let key = "\(saleStore):\(saleSeq)"
            guard facts[key] != nil else { return }
            facts[key]!.returns.append(
                ReturnRecount.Return(
                    amountMinor: amount, points: points,
                    lines: SyncEntry.decodedLines(linesText, as: SyncLineReturn.self)?.map { ($0.line, $0.amountMinor) }
                ))
            facts[key]!.returnStores.insert(store)
            facts[key]!.latestReturnMilliseconds = max(facts[key]!.latestReturnMilliseconds, at)
        }

        mutating func correction(key: String, points: Int64) {
            guard let sale = ReturnReconciliationQueries.sale(ofKey: key), facts["\(sale.store):\(sale.seq)"] != nil
            else {
                return
            }
            let earlier = facts["\(sale.store):\(sale.seq)"]!.corrected
            facts["\(sale.store):\(sale.seq)"]!.corrected = (earlier.points + points, earlier.count + 1)
        }
    }
}

extension HeadOfficeStore {
    /// Corrects the points that returns taken at several stores took back of one sale, so that together
    /// they took exactly what one always-online till would have (a store returning from a stale view can
    /// take a line twice, or round apart): one `adjust` per sale and change, `reconcile:returned_twice`
    /// (points given back) or `reconcile:return_short`. Running it again changes nothing.
    @discardableResult
    public func reconcileReturns(cards: [String], actor: String, now: Date) async throws -> [ReconciliationRecord] {
        let cards = Array(Set(cards).prefix(Self.maximumMembersPerReconciliation))
        guard !cards.isEmpty else { return [] }
        var requests: [IssuedEntryRequest] = []
        var records: [ReconciliationRecord] = []
        for sale in try await returnFacts(cards: cards).sorted(by: { ($0.storeId, $0.seq) < ($1.storeId, $1.seq) }) {
            guard
                let expected = ReturnRecount.expectedTakeBack(
                    saleMinor: sale.saleMinor, earnedPoints: sale.points, lines: sale.lines, returns: sale.returns)
            else { continue }
            let taken = -sale.returns.reduce(0) { $0 + $1.points } - sale.corrected.points
            let points = taken - expected
            guard points != 0 else { continue }
            let code = points > 0 ? "reconcile:returned_twice" : "reconcile:return_short"
            let stores = sale.returnStores.sorted().joined(separator: ", ")
            let reason =
                points > 0
                ? "\(code): returns of receipt \(sale.receipt) (sold at \(sale.storeId); returned at \(stores)) took back "
                    + "\(taken) points; what was returned earned \(expected)"
                : "\(code): returns of receipt \(sale.receipt) (sold at \(sale.storeId); returned at \(stores)) took back "
                    + "\(taken) points of the \(expected) what was returned earned"
            requests.append(
                IssuedEntryRequest(
                    memberId: sale.memberId, card: sale.card, kind: .adjust, points: points, reason: reason,
                    idempotencyKey: "reconcile:return:\(sale.storeId):\(sale.seq):\(sale.corrected.count)",
                    // At the return's time: the day and its cap count the return as it should have been.
                    createdAtMilliseconds: sale.latestReturnMilliseconds))
            records.append(
                ReconciliationRecord(
                    card: sale.card, reasonCode: code, points: points, reason: reason, atMilliseconds: now.milliseconds,
                    by: actor))
        }
        _ = try await issue(requests, actor: actor, now: now)
        return records
    }
}
