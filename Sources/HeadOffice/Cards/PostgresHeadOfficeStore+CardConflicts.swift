public import Foundation
import PostgresNIO

extension PostgresHeadOfficeStore {
    public func cardConflicts() async throws -> [CardConflict] {
        let logger = self.logger
        return try await client.withConnection { connection in
            var result: [CardConflict] = []
            for try await (card, store, seq, addedTo, heldBy, at, provisional, kind) in try await connection.query(
                PostgresQuery(unsafeSQL: CardConflictQueries.open), logger: logger
            ).decode((String, String, Int64, String, String, Int64, Bool, String).self) {
                result.append(
                    CardConflict(
                        card: card, storeId: store, seq: seq, addedTo: addedTo, heldBy: heldBy, atMilliseconds: at,
                        heldByProvisional: provisional, kind: kind))
            }
            return result
        }
    }

    public func resolveCardConflicts(card: String, now: Date) async throws -> Int {
        var bindings = PostgresBindings()
        bindings.append(card)
        bindings.append(now.milliseconds)
        let logger = self.logger
        return try await client.withConnection { connection in
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: CardConflictQueries.resolve(card: "$1", at: "$2") + " RETURNING card", binds: bindings),
                logger: logger)
            var count = 0
            for try await _ in rows.decode(String.self) { count += 1 }
            return count
        }
    }
}
