import Foundation
import GRDB
import PostgresNIO
import TestSupport
import Testing

@testable import HeadOffice

/// A head-office database a newer `loyalty-hq` upgraded is refused by an older one when it opens it (found by
/// attack: an older binary's `members merge` left the newer one's per-store totals behind), and nothing changes.
@Suite struct NewerSchemaTests {
    @Test func aSQLiteHeadOfficeANewerBinaryUpgradedIsRefused() async throws {
        let folder = TemporaryFolder()
        let path = folder.file("hq.db")
        let store = try SQLiteHeadOfficeStore(path: path)
        try await store.migrate()
        try await store.addStore(id: "A", secret: "secret-a", now: Date())
        try await store.pool.write {
            try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('hq-v99-from-the-future')")
        }
        let older = try SQLiteHeadOfficeStore(path: path)
        let refusal = await #expect(throws: NewerSchemaRefusal.self) { try await older.migrate() }
        #expect(refusal?.found == "hq-v99-from-the-future")
        #expect(refusal?.description.contains("upgrade loyalty-hq on every head-office server") == true)
        #expect(try await store.stores().map(\.storeId) == ["A"])
    }

    @Test func aPostgreSQLHeadOfficeANewerBinaryUpgradedIsRefused() async throws {
        try await Harness.withStore(.postgres) { any in
            let store = try #require(any as? PostgresHeadOfficeStore)
            try await store.addStore(id: "A", secret: "secret-a", now: Date())
            let newest = try #require(PostgresHeadOfficeStore.migrations.map(\.0).max())
            try await store.client.query(
                PostgresQuery(unsafeSQL: "INSERT INTO hq_schema (version) VALUES (\(newest + 1))"), logger: Harness.logger)
            let refusal = await #expect(throws: NewerSchemaRefusal.self) { try await store.migrate() }
            #expect(refusal?.found == String(newest + 1) && refusal?.known == String(newest))
            #expect(try await store.stores().map(\.storeId) == ["A"])
        }
    }
}
