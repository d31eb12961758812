public import Foundation
import GRDB

extension SQLiteHeadOfficeStore {
    public func markServed(storeId: String, cards: [String], now: Date) async throws -> [String] {
        let store = MemberStores.store(ofLedger: storeId)
        return try await pool.write { db in
            let holder = try db.cachedStatement(
                sql: """
                    SELECT c.member_id FROM hq_cards c JOIN hq_members m ON m.id = c.member_id
                    WHERE c.card = ? AND \(AnalyticsQueries.isMember)
                    """)
            var held: [(card: String, member: Int64)] = []
            for card in cards {
                if let member = try Int64.fetchOne(holder, arguments: [card]) { held.append((card, member)) }
            }
            guard !held.isEmpty else { return [] }
            try db.execute(sql: "UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1")
            let version = try Int64.fetchOne(db, sql: "SELECT change_seq FROM hq_counter WHERE id = 1")!
            for member in Set(held.map(\.member)) {
                try db.execute(
                    sql: MemberStores.know(store: "?1", member: "?2", version: "?3"),
                    arguments: [store, member, version])
            }
            return held.map(\.card).sorted()
        }
    }
}
