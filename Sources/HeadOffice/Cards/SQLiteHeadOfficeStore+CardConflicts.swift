public import Foundation
import GRDB

extension SQLiteHeadOfficeStore {
    public func cardConflicts() async throws -> [CardConflict] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: CardConflictQueries.open).map {
                CardConflict(
                    card: $0[0], storeId: $0[1], seq: $0[2], addedTo: $0[3], heldBy: $0[4], atMilliseconds: $0[5],
                    heldByProvisional: $0[6], kind: $0[7])
            }
        }
    }

    public func resolveCardConflicts(card: String, now: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: CardConflictQueries.resolve(card: "?1", at: "?2"), arguments: [card, now.milliseconds])
            return db.changesCount
        }
    }
}
