import Foundation
public import SyncProtocol

/// A sale another store made, looked up by its receipt for a return at the asking store.
public enum SaleLookup: Sendable, Hashable {
    case found(SaleElsewhere)
    /// No other store's ledger at head office holds the receipt (perhaps not synced yet).
    case unknown
    /// Several stores used this receipt reference: the return must name the store that sold.
    case ambiguous(stores: [String])
}

/// The rows a lookup reads, and how they fold into one answer: the same in both drivers.
enum SaleLookupFolding {
    /// An `earn` or `redeem` entry with the receipt, at a store other than the asking one.
    struct SaleRow {
        var storeId: String
        var seq: Int64
        var kind: String
        var card: String
        var currency: String
        var atMilliseconds: Int64
        var amountMinor: Int64
        var points: Int64
        var ruleVersion: Int
        var linesText: String?
    }

    /// A `reverse` entry of another store than the asking one, referring to one of those entries.
    struct ReturnRow {
        var refersToSeq: Int64
        var points: Int64
        var amountMinor: Int64
        var returnedLinesText: String?
    }

    /// The sales with the receipt: `earn` and `redeem` entries of other stores, or of the one store named
    /// (the asking store too: the store that sold asks what returns elsewhere took of its own sale; a store with
    /// tills named by its id, `north`, means any of its tills but the asking one: found by attack, `--sold-at north`
    /// found nothing when `north.1` sold). Placeholders: receipt, asking store, the store that sold (or NULL for any).
    static func salesSQL(receipt: String, asking: String, soldAt: String) -> String {
        """
        SELECT store_id, seq, kind, card, currency, created_at_ms, amount_minor, points, rule_version, sale_lines
        FROM hq_entries WHERE receipt = \(receipt) AND kind IN ('earn', 'redeem')
          AND ((\(soldAt) IS NULL AND store_id <> \(asking)) OR store_id = \(soldAt)
               OR (\(StoreLedgers.ledger("store_id", isOfStore: soldAt)) AND store_id <> \(asking)))
        ORDER BY store_id, seq LIMIT 100
        """
    }

    /// Returns of the selling store's entries `earn`/`redeem` taken anywhere but at the asking store.
    /// Placeholders: the selling store, the two sequences (0 when absent), the asking store.
    static func returnsSQL(store: String, earnSeq: String, redeemSeq: String, asking: String) -> String {
        """
        SELECT refers_to_seq, points, amount_minor, returned_lines FROM hq_entries
        WHERE kind = 'reverse' AND refers_to_seq IN (\(earnSeq), \(redeemSeq))
          AND COALESCE(refers_to_store, store_id) = \(store) AND store_id <> \(asking)
        """
    }

    /// The sale's bonuses (first purchase) no store but the asking one took back.
    /// Placeholders: the selling store, the sale's earn seq, the asking store.
    static func bonusesSQL(store: String, earnSeq: String, asking: String) -> String {
        """
        SELECT b.seq, b.card, b.points, b.rule_version FROM hq_entries b
        WHERE b.store_id = \(store) AND b.kind = 'bonus' AND b.refers_to_seq = \(earnSeq) AND b.refers_to_store IS NULL
          AND NOT EXISTS (SELECT 1 FROM hq_entries r WHERE r.kind = 'reverse' AND r.refers_to_seq = b.seq
                                                     AND COALESCE(r.refers_to_store, r.store_id) = \(store)
                                                     AND r.store_id <> \(asking))
        ORDER BY b.seq
        """
    }

    /// The store whose sale it is, or the answer when there is none or several.
    static func sellingStore(_ rows: [SaleRow]) -> Result<String, SaleLookupRefusal> {
        let stores = Set(rows.map(\.storeId)).sorted()
        guard let store = stores.first else { return .failure(.init(lookup: .unknown)) }
        guard stores.count == 1 else { return .failure(.init(lookup: .ambiguous(stores: stores))) }
        return .success(store)
    }

    /// The selling store's sale with what other stores' returns took of it.
    static func fold(
        store: String, receipt: String, sales: [SaleRow], returns: [ReturnRow], bonuses: [SaleElsewhere.Bonus]
    ) -> SaleElsewhere {
        let earn = sales.first { $0.storeId == store && $0.kind == "earn" }
        let redeem = sales.first { $0.storeId == store && $0.kind == "redeem" }
        let owner = earn ?? redeem!
        var refunded: Int64 = 0
        var reversed: Int64 = 0
        var restored: Int64 = 0
        var lines: [SaleElsewhere.Line]? = SyncEntry.decodedLines(earn?.linesText, as: SyncSaleLine.self)?.map {
            SaleElsewhere.Line(
                sku: $0.sku, amountMinor: $0.amountMinor, points: $0.points, returnedMinor: 0, reversedPoints: 0)
        }
        for row in returns {
            if let earn, row.refersToSeq == earn.seq {
                refunded -= row.amountMinor
                reversed -= row.points
                for part in SyncEntry.decodedLines(row.returnedLinesText, as: SyncLineReturn.self) ?? []
                where lines?.indices.contains(part.line) == true {
                    lines![part.line].returnedMinor += part.amountMinor
                    lines![part.line].reversedPoints += part.points
                }
            } else if let redeem, row.refersToSeq == redeem.seq {
                restored += row.points
            }
        }
        return SaleElsewhere(
            storeId: store, receipt: receipt, earnSeq: earn?.seq, card: owner.card, currency: owner.currency,
            soldAtMilliseconds: owner.atMilliseconds, amountMinor: earn?.amountMinor ?? 0, points: earn?.points ?? 0,
            ruleVersion: owner.ruleVersion, refundedMinor: refunded, reversedPoints: reversed, redeemSeq: redeem?.seq,
            redeemCard: redeem?.card, redeemRuleVersion: redeem?.ruleVersion, redeemedPoints: -(redeem?.points ?? 0),
            restoredPoints: restored, lines: lines, bonuses: bonuses.isEmpty ? nil : bonuses)
    }
}

/// A lookup that found no single sale (carried through `Result`).
struct SaleLookupRefusal: Error {
    var lookup: SaleLookup
}
