import Foundation
import GRDB
import SyncProtocol

extension SQLiteHeadOfficeStore {
    public func saleElsewhere(receipt: String, soldAt: String?, askingStore: String) async throws -> SaleLookup {
        try await pool.read { db in
            let sales = try Row.fetchAll(
                db, sql: SaleLookupFolding.salesSQL(receipt: "?1", asking: "?2", soldAt: "?3"),
                arguments: [receipt, askingStore, soldAt]
            ).map {
                SaleLookupFolding.SaleRow(
                    storeId: $0[0], seq: $0[1], kind: $0[2], card: $0[3], currency: $0[4], atMilliseconds: $0[5],
                    amountMinor: $0[6], points: $0[7], ruleVersion: $0[8], linesText: $0[9])
            }
            let store: String
            switch SaleLookupFolding.sellingStore(sales) {
            case .failure(let refusal): return refusal.lookup
            case .success(let found): store = found
            }
            let seqs = sales.filter { $0.storeId == store }
            let returns = try Row.fetchAll(
                db,
                sql: SaleLookupFolding.returnsSQL(store: "?1", earnSeq: "?2", redeemSeq: "?3", asking: "?4"),
                arguments: [
                    store, seqs.first { $0.kind == "earn" }?.seq ?? 0, seqs.first { $0.kind == "redeem" }?.seq ?? 0,
                    askingStore,
                ]
            ).map {
                SaleLookupFolding.ReturnRow(
                    refersToSeq: $0[0], points: $0[1], amountMinor: $0[2], returnedLinesText: $0[3])
            }
            let earnSeq = seqs.first { $0.kind == "earn" }?.seq ?? 0
            let bonuses = try Row.fetchAll(
                db, sql: SaleLookupFolding.bonusesSQL(store: "?1", earnSeq: "?2", asking: "?3"),
                arguments: [store, earnSeq, askingStore]
            ).map { SaleElsewhere.Bonus(seq: $0[0], card: $0[1], points: $0[2], ruleVersion: $0[3]) }
            return .found(
                SaleLookupFolding.fold(store: store, receipt: receipt, sales: sales, returns: returns, bonuses: bonuses)
            )
        }
    }
}
