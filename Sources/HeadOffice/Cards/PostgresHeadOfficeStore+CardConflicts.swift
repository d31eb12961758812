import Foundation
import PostgresNIO

extension PostgresHeadOfficeStore {
    public func cardConflicts() async throws -> [CardConflict] {
        let logger = self.logger
        return try await client.withConnection { connection in
            var result: [CardConflict] = []
            for try await (card, store, seq, addedTo, heldBy, at, provisional) in try await connection.query(
                PostgresQuery(unsafeSQL: CardConflictQueries.open), logger: logger
            ).decode((String, String, Int64, String, String, Int64, Bool).self) {
                result.append(
                    CardConflict(
                        card: card, storeId: store, seq: seq, addedTo: addedTo, heldBy: heldBy, atMilliseconds: at,
                        heldByProvisional: provisional))
            }
            return result
        }
    }
}
