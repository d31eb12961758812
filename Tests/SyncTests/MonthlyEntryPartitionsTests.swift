import Foundation
import LoyaltyCore
import PostgresNIO
import SyncProtocol
import TestSupport
import Testing

@testable import HeadOffice

/// PostgreSQL keeps head office's entries in one partition per month (schema v42): each entry lands in its
/// month's table, what a member, a store or a report sees is the same as before, and entries stay immutable.
@Suite struct MonthlyEntryPartitionsTests {
    static let alice = "2900000777774"
    static let bob = "2900000123458"
    static let dayMilliseconds: Int64 = 86_400_000

    /// The partition holding the month of `milliseconds` (UTC), as head office names it.
    static func partition(_ milliseconds: Int64) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents(
            [.year, .month], from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
        return String(format: "hq_entries_%04d_%02d", parts.year!, parts.month!)
    }

    static func values<T: PostgresDecodable>(
        _ store: PostgresHeadOfficeStore, _ sql: String, as type: T.Type
    ) async throws -> [T] {
        var result: [T] = []
        for try await value in try await store.client.query(PostgresQuery(unsafeSQL: sql), logger: Harness.logger)
            .decode(T.self)
        {
            result.append(value)
        }
        return result
    }

    /// Which table holds each entry of `storeId`, by seq.
    static func tables(_ store: PostgresHeadOfficeStore, storeId: String) async throws -> [Int64: String] {
        var result: [Int64: String] = [:]
        for try await (seq, table) in try await store.client.query(
            "SELECT seq, tableoid::regclass::text FROM hq_entries WHERE store_id = \(storeId)", logger: Harness.logger
        ).decode((Int64, String).self) {
            result[seq] = table
        }
        return result
    }

    /// Today's ingest writes the store's time floor (v45): an earlier schema under test gets that column first (the
    /// upgrade adds it only if missing), so its history can be written the way stores send it.
    static func addTheColumnTodaysIngestWrites(_ store: PostgresHeadOfficeStore) async throws {
        try await store.client.query(
            "ALTER TABLE hq_stores ADD COLUMN IF NOT EXISTS entries_not_before_ms BIGINT", logger: Harness.logger)
    }

    static func sale(
        _ seq: Int64, card: String = alice, kind: String = "earn", points: Int64, at: Int64, refersTo: Int64? = nil
    ) -> SyncEntry {
        var entry = Harness.entry(seq, card: card, kind: kind, points: points, at: at)
        entry.refersToSeq = refersTo
        if kind == "reverse" { entry.amountMinor = points * 100 }
        return entry
    }

    /// What a head-office operator and a till see: the members, the stores' totals, tier counts, the
    /// dashboard's days and a till's whole pull.
    struct Views: Equatable, Sendable {
        var members: [HeadOfficeMember?]
        var totals: [StoreTotal]
        var tiers: [String: Int]
        var days: [DailyStoreTotal]
        var pulled: [String: Int64]
    }

    static func views(_ store: PostgresHeadOfficeStore, now: Date) async throws -> Views {
        var pulled: [String: Int64] = [:]
        var cursor: Int64 = 0
        for _ in 0..<100 {
            let page = try await store.updates(storeId: "S", since: cursor, storeAcknowledged: nil, now: now)
            for member in page.members { pulled[member.card] = member.balance }
            cursor = page.cursor
            if !page.more { break }
        }
        return Views(
            members: [try await store.member(card: alice, now: now), try await store.member(card: bob, now: now)],
            totals: try await store.totals(), tiers: try await store.tierCounts(now: now),
            days: try await store.dailyTotals(
                sinceMilliseconds: now.milliseconds - 40 * dayMilliseconds,
                calendar: try ChainCalendar(identifier: "UTC")),
            pulled: pulled)
    }

    @Test func eachEntryLandsInItsMonthAndStaysImmutable() async throws {
        try await Harness.withStore(.postgres) { any in
            let store = try #require(any as? PostgresHeadOfficeStore)
            let now = Date()
            let nowMs = now.milliseconds
            try await store.addStore(id: "S", secret: "S", now: now)
            #expect(
                try await Self.values(
                    store, "SELECT relkind::text FROM pg_class WHERE relname = 'hq_entries'", as: String.self) == ["p"])
            // This month has its partition from start-up; a month five months back does not (default partition).
            let old = nowMs - 150 * Self.dayMilliseconds
            let batch = PushBatch(
                entries: [
                    Self.sale(1, card: Self.bob, points: 7, at: old), Self.sale(2, points: 40, at: nowMs - 1000),
                    Self.sale(3, kind: "reverse", points: -10, at: nowMs - 500, refersTo: 2),
                ], backlog: 0)
            #expect(try await store.ingest(storeId: "S", batch: batch, nonce: nil, now: now).acknowledgedSeq == 3)
            #expect(
                try await Self.tables(store, storeId: "S") == [
                    1: "hq_entries_default", 2: Self.partition(nowMs), 3: Self.partition(nowMs),
                ])
            // The coming months exist; preparing the old month leaves its entry where it is, counted.
            for month in 1...MonthlyEntryPartitions.monthsAhead {
                let name = Self.partition(nowMs + Int64(month) * 31 * Self.dayMilliseconds - 20 * Self.dayMilliseconds)
                #expect(try await Self.values(store, "SELECT to_regclass('\(name)')::text", as: String?.self) == [name])
            }
            #expect(
                try await Self.values(store, "SELECT hq_prepare_entry_months(\(old), \(old))", as: Int32.self) == [0])
            #expect(try await store.member(card: Self.bob, now: now)?.balance == 7)
            #expect(try await store.member(card: Self.alice, now: now)?.balance == 30)

            // A replayed batch adds nothing (the key holds the month too: the store's mark keeps a seq once).
            #expect(try await store.ingest(storeId: "S", batch: batch, nonce: nil, now: now).acknowledgedSeq == 3)
            #expect(try await Self.values(store, "SELECT COUNT(*) FROM hq_entries", as: Int64.self) == [3])
            #expect(try await store.totals().map(\.points) == [37])

            // The database itself holds a store's sequence once, whatever month a second copy would go to.
            let copy =
                "INSERT INTO hq_entries SELECT store_id, seq, id || 'x', member_id, card, kind, points, amount_minor, "
                + "currency, receipt, refers_to_seq, rule_version, reason, created_at_ms - 40 * 86400000::bigint, "
                + "received_at_ms FROM hq_entries WHERE store_id = 'S' AND seq = 2"
            let refusal = await #expect(throws: PSQLError.self) {
                try await store.client.query(PostgresQuery(unsafeSQL: copy), logger: Harness.logger)
            }
            #expect(refusal?.serverInfo?[.sqlState] == "23505", "a unique violation: \(String(reflecting: refusal))")
            // Immutable through the parent and through a month's own table.
            for statement in [
                "UPDATE hq_entries SET points = 0", "DELETE FROM hq_entries",
                "UPDATE \(Self.partition(nowMs)) SET points = 0", "DELETE FROM hq_entries_default",
            ] {
                await #expect(throws: (any Error).self, "\(statement)") {
                    try await store.client.query(PostgresQuery(unsafeSQL: statement), logger: Harness.logger)
                }
            }
            #expect(try await Self.values(store, "SELECT SUM(points)::bigint FROM hq_entries", as: Int64.self) == [37])
        }
    }

    /// A head office upgraded from schema v41 moves every entry into its month and answers as before.
    @Test func anUpgradeKeepsEveryEntryAndEveryFigure() async throws {
        try await Harness.withStore(.postgres, postgresSchemaVersion: 41) { any in
            let store = try #require(any as? PostgresHeadOfficeStore)
            let now = Date()
            let nowMs = now.milliseconds
            #expect(
                try await Self.values(
                    store, "SELECT relkind::text FROM pg_class WHERE relname = 'hq_entries'", as: String.self) == ["r"])
            try await store.addStore(id: "S", secret: "S", now: now)
            try await Self.addTheColumnTodaysIngestWrites(store)
            // A till's entries in sequence, oldest first.
            let day = Self.dayMilliseconds
            let entries = [
                Self.sale(1, points: 10, at: nowMs - 4_000 * day),  // eleven years back: the default partition
                Self.sale(2, points: 20, at: nowMs - 400 * day), Self.sale(3, points: 30, at: nowMs - 60 * day),
                Self.sale(4, card: Self.bob, points: 5, at: nowMs - 30 * day),
                Self.sale(5, points: 40, at: nowMs - 20 * day),
                Self.sale(6, kind: "reverse", points: -20, at: nowMs - 10 * day, refersTo: 5),
                Self.sale(7, points: 50, at: nowMs - 1000), Self.sale(8, kind: "redeem", points: -15, at: nowMs - 900),
            ]
            _ = try await store.ingest(
                storeId: "S", batch: PushBatch(entries: entries, backlog: 0), nonce: nil, now: now)
            // Today's figures read what later versions keep (v46's totals): what they must be is what a head office
            // on today's schema answers for the same entries.
            let before = try await Harness.withStore(.postgres) { any in
                let fresh = try #require(any as? PostgresHeadOfficeStore)
                try await fresh.addStore(id: "S", secret: "S", now: now)
                _ = try await fresh.ingest(
                    storeId: "S", batch: PushBatch(entries: entries, backlog: 0), nonce: nil, now: now)
                return try await Self.views(fresh, now: now)
            }
            let aliceBefore = try #require(before.members[0])
            #expect(aliceBefore.balance == 150 - 20 - 15)
            #expect(
                try await Self.values(
                    store, "SELECT m.balance FROM hq_members m JOIN hq_cards c ON c.member_id = m.id ORDER BY c.card",
                    as: Int64.self) == [5, aliceBefore.balance])

            try await store.migrate()

            #expect(
                try await Self.values(
                    store, "SELECT relkind::text FROM pg_class WHERE relname = 'hq_entries'", as: String.self) == ["p"])
            #expect(
                try await Self.values(store, "SELECT MAX(version) FROM hq_schema", as: Int.self)
                    == [PostgresHeadOfficeStore.migrations.last?.0])
            // Every month reads a member's figures from its index alone (v43): one index by member and time, holding
            // the columns the figures sum, on the table and each month.
            let memberIndexes = try await Self.values(
                store,
                """
                SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
                WHERE (c.oid = 'hq_entries'::regclass OR c.oid IN (SELECT inhrelid FROM pg_inherits
                                                             WHERE inhparent = 'hq_entries'::regclass))
                  AND pg_get_indexdef(i.indexrelid) LIKE '%(member_id, created_at_ms)%'
                """, as: String.self)
            let months = try await Self.values(
                store, "SELECT COUNT(*) FROM pg_inherits WHERE inhparent = 'hq_entries'::regclass", as: Int64.self)
            #expect(Int64(memberIndexes.count) == (months.first ?? 0) + 1, "\(memberIndexes)")
            #expect(
                memberIndexes.allSatisfy {
                    $0.hasSuffix("INCLUDE (kind, points, amount_minor, store_id, refers_to_seq, refers_to_store)")
                }, "\(memberIndexes)")

            let tables = try await Self.tables(store, storeId: "S")
            #expect(tables.count == 8)
            #expect(try await Self.values(store, "SELECT COUNT(*) FROM hq_entry_keys", as: Int64.self) == [8])
            #expect(tables[1] == "hq_entries_default")
            for seq in 2...8 {
                let at = entries[seq - 1].createdAtMilliseconds
                #expect(tables[Int64(seq)] == Self.partition(at), "entry \(seq)")
            }
            #expect(try await Self.views(store, now: now) == before)

            // It goes on: the next sale lands in this month, a replay of an old one adds nothing, entries stay fixed.
            let next = PushBatch(entries: [Self.sale(9, points: 3, at: nowMs)], backlog: 0)
            #expect(try await store.ingest(storeId: "S", batch: next, nonce: nil, now: now).acknowledgedSeq == 9)
            _ = try await store.ingest(
                storeId: "S", batch: PushBatch(entries: entries, backlog: 0), nonce: nil, now: now)
            #expect(try await store.member(card: Self.alice, now: now)?.balance == 118)
            #expect(try await Self.tables(store, storeId: "S")[9] == Self.partition(nowMs))
            await #expect(throws: (any Error).self) {
                try await store.client.query("UPDATE hq_entries SET points = 0 WHERE seq = 9", logger: Harness.logger)
            }
        }
    }

    /// A head office whose servers connect as another role than the one that migrates (grants on the tables, one
    /// of them to PUBLIC) still syncs after the upgrade, and the grants hold on the new table and its view.
    @Test func aServerConnectingAsAnotherRoleStillSyncsAfterTheUpgrade() async throws {
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let (app, reader) = ("hq_app_\(suffix)", "hq_reader_\(suffix)")
        try await Harness.withStore(.postgres, postgresSchemaVersion: 41) { any in
            let store = try #require(any as? PostgresHeadOfficeStore)
            let now = Date()
            try await store.addStore(id: "S", secret: "S", now: now)
            try await Self.addTheColumnTodaysIngestWrites(store)
            _ = try await store.ingest(
                storeId: "S", batch: PushBatch(entries: [Self.sale(1, points: 40, at: now.milliseconds)], backlog: 0),
                nonce: nil, now: now)
            for statement in [
                "CREATE ROLE \(app) LOGIN", "CREATE ROLE \(reader) LOGIN",
                "GRANT ALL ON ALL TABLES IN SCHEMA public TO \(app)",
                "GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO \(app)", "GRANT SELECT ON hq_entries TO PUBLIC",
            ] {
                try await store.client.query(PostgresQuery(unsafeSQL: statement), logger: Harness.logger)
            }
            try await store.migrate()
            let database = try await Self.values(store, "SELECT current_database()::text", as: String.self)[0]
            #expect(
                try await Self.values(
                    store, "SELECT has_table_privilege('\(reader)', 'hq_entries', 'SELECT')", as: Bool.self) == [true])

            try await Harness.withServer(database: database, username: app) { server in
                let batch = PushBatch(entries: [Self.sale(2, points: 5, at: now.milliseconds)], backlog: 0)
                #expect(try await server.ingest(storeId: "S", batch: batch, nonce: nil, now: now).acknowledgedSeq == 2)
                #expect(try await server.member(card: Self.alice, now: now)?.balance == 45)
                try await server.prepareEntryMonths(now: now.addingTimeInterval(200 * 86_400))
                let page = try await server.updates(storeId: "S", since: 0, storeAcknowledged: nil, now: now)
                #expect(page.members.map(\.balance) == [45])
            }
            #expect(
                try await Self.values(
                    store,
                    "SELECT to_regclass('\(Self.partition(now.milliseconds + 200 * Self.dayMilliseconds))') IS NOT NULL",
                    as: Bool.self) == [true])
            for statement in ["DROP OWNED BY \(app), \(reader)", "DROP ROLE \(app)", "DROP ROLE \(reader)"] {
                try await store.client.query(PostgresQuery(unsafeSQL: statement), logger: Harness.logger)
            }
        }
    }
}
