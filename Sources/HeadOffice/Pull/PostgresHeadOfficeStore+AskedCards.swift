public import Foundation
import PostgresNIO

extension PostgresHeadOfficeStore {
    public func markServed(storeId: String, cards: [String], now: Date) async throws -> [String] {
        let logger = self.logger
        let store = MemberStores.store(ofLedger: storeId)
        return try await transaction { connection in
            var held: [(card: String, member: Int64)] = []
            for try await row in try await connection.query(
                """
                SELECT c.card, c.member_id FROM hq_cards c JOIN hq_members m ON m.id = c.member_id
                WHERE c.card = ANY(\(cards)::text[]) AND \(unescaped: AnalyticsQueries.isMember)
                """, logger: logger
            ).decode((String, Int64).self) {
                held.append(row)
            }
            guard !held.isEmpty else { return [] }
            // The counter first, as every change does: the rows' version is past every cursor already handed out.
            try await connection.query(
                """
                WITH version AS (UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1 RETURNING change_seq)
                INSERT INTO hq_member_stores (store, member_id, version)
                SELECT \(store), member, (SELECT change_seq FROM version)
                FROM UNNEST(\(Array(Set(held.map(\.member))).sorted())::bigint[]) AS member
                ON CONFLICT (store, member_id) DO UPDATE SET version = EXCLUDED.version
                """, logger: logger)
            return held.map(\.card).sorted()
        }
    }
}
