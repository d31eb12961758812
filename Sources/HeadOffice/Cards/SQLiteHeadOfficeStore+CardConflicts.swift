import Foundation
import GRDB

extension SQLiteHeadOfficeStore {
    public func cardConflicts() async throws -> [CardConflict] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: CardConflictQueries.open).map {
                CardConflict(
                    card: $0[0], storeId: $0[1], seq: $0[2], addedTo: $0[3], heldBy: $0[4], atMilliseconds: $0[5],
                    heldByProvisional: $0[6])
            }
        }
    }
}
