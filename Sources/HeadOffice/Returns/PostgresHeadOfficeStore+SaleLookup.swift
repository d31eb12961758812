import Foundation
import PostgresNIO
import SyncProtocol

extension PostgresHeadOfficeStore {
    public func saleElsewhere(receipt: String, soldAt: String?, askingStore: String) async throws -> SaleLookup {
        let logger = self.logger
        return try await client.withConnection { connection in
            var sales: [SaleLookupFolding.SaleRow] = []
            var bindings = PostgresBindings()
            bindings.append(receipt)
            bindings.append(askingStore)
            bindings.append(soldAt)
            let salesQuery = PostgresQuery(
                unsafeSQL: SaleLookupFolding.salesSQL(receipt: "$1", asking: "$2", soldAt: "$3::text"), binds: bindings)
            for try await row in try await connection.query(salesQuery, logger: logger).decode(
                (String, Int64, String, String, String, Int64, Int64, Int64, Int, String?).self)
            {
                sales.append(
                    SaleLookupFolding.SaleRow(
                        storeId: row.0, seq: row.1, kind: row.2, card: row.3, currency: row.4, atMilliseconds: row.5,
                        amountMinor: row.6, points: row.7, ruleVersion: row.8, linesText: row.9))
            }
            let store: String
            switch SaleLookupFolding.sellingStore(sales) {
            case .failure(let refusal): return refusal.lookup
            case .success(let found): store = found
            }
            let seqs = sales.filter { $0.storeId == store }
            var returnBindings = PostgresBindings()
            returnBindings.append(store)
            returnBindings.append(seqs.first { $0.kind == "earn" }?.seq ?? 0)
            returnBindings.append(seqs.first { $0.kind == "redeem" }?.seq ?? 0)
            returnBindings.append(askingStore)
            let returnsQuery = PostgresQuery(
                unsafeSQL: SaleLookupFolding.returnsSQL(store: "$1", earnSeq: "$2", redeemSeq: "$3", asking: "$4"),
                binds: returnBindings)
            var returns: [SaleLookupFolding.ReturnRow] = []
            for try await row in try await connection.query(returnsQuery, logger: logger).decode(
                (Int64, Int64, Int64, String?).self)
            {
                returns.append(
                    SaleLookupFolding.ReturnRow(
                        refersToSeq: row.0, points: row.1, amountMinor: row.2, returnedLinesText: row.3))
            }
            var bonusBindings = PostgresBindings()
            bonusBindings.append(store)
            bonusBindings.append(seqs.first { $0.kind == "earn" }?.seq ?? 0)
            bonusBindings.append(askingStore)
            var bonuses: [SaleElsewhere.Bonus] = []
            for try await row in try await connection.query(
                PostgresQuery(
                    unsafeSQL: SaleLookupFolding.bonusesSQL(store: "$1", earnSeq: "$2", asking: "$3"),
                    binds: bonusBindings),
                logger: logger
            ).decode((Int64, String, Int64, Int).self) {
                bonuses.append(SaleElsewhere.Bonus(seq: row.0, card: row.1, points: row.2, ruleVersion: row.3))
            }
            return .found(
                SaleLookupFolding.fold(store: store, receipt: receipt, sales: sales, returns: returns, bonuses: bonuses)
            )
        }
    }
}
