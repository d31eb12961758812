import Foundation
import LoyaltyCore
import PostgresNIO
import SyncProtocol
import TestSupport
import Testing

@testable import HeadOffice

/// PostgreSQL's key table holds each entry's time (schema v50), and a return counts from its sale's time read
/// there: a sale months back, a sale in the same batch as its return, a sale that reaches head office after its
/// return; on a fresh head office and on one upgraded from v49 with entries already in it.
@Suite struct EntryKeyTimesTests {
    static let alice = MonthlyEntryPartitionsTests.alice
    static let day = MonthlyEntryPartitionsTests.dayMilliseconds

    static func values<T: PostgresDecodable>(
        _ store: PostgresHeadOfficeStore, _ sql: String, as type: T.Type
    ) async throws -> [T] {
        try await MonthlyEntryPartitionsTests.values(store, sql, as: type)
    }

    /// Entries whose key row is missing or holds another time than the entry (none, whatever was pushed).
    static func keysOutOfStep(_ store: PostgresHeadOfficeStore) async throws -> Int64 {
        try await values(
            store,
            """
            SELECT COUNT(*) FROM hq_entries e FULL JOIN hq_entry_keys k ON k.store_id = e.store_id AND k.seq = e.seq
            WHERE k.created_at_ms IS DISTINCT FROM e.created_at_ms
            """, as: Int64.self)[0]
    }

    /// Each return of `storeId` by seq, with the time it counts from.
    static func returnTimes(_ store: PostgresHeadOfficeStore, storeId: String) async throws -> [Int64: Int64] {
        var times: [Int64: Int64] = [:]
        for try await (seq, at) in try await store.client.query(
            "SELECT seq, counts_at_ms FROM hq_returns_at_sale WHERE store_id = \(storeId)", logger: Harness.logger
        ).decode((Int64, Int64).self) {
            times[seq] = at
        }
        return times
    }

    static func sale(_ seq: Int64, points: Int64, at: Int64) -> SyncEntry {
        MonthlyEntryPartitionsTests.sale(seq, points: points, at: at)
    }

    static func `return`(_ seq: Int64, of sale: Int64, at: Int64, soldAt store: String? = nil) -> SyncEntry {
        var entry = MonthlyEntryPartitionsTests.sale(seq, kind: "reverse", points: -5, at: at, refersTo: sale)
        entry.refersToStore = store
        entry.id = "return:\(store ?? "own"):\(seq)"
        return entry
    }

    /// Pushes the three kinds of return to a head office at `store` and checks each counts from its sale's time.
    static func pushReturnsAndCheck(_ store: PostgresHeadOfficeStore, now: Date, firstSeq: Int64) async throws {
        let nowMs = now.milliseconds
        // A store's entries go forward in time (head office holds a till's clock to its last entry's time).
        let (old, sameBatch, later) = (nowMs - 200 * day, nowMs - 3 * day, nowMs - 1000)
        let seq = firstSeq
        // A sale 200 days back (an earlier month), returned today in a later batch.
        _ = try await store.ingest(
            storeId: "S", batch: PushBatch(entries: [sale(seq, points: 40, at: old)], backlog: 0), nonce: nil, now: now)
        // A sale and its return in one batch; the return of the old sale in the same batch.
        let batch = PushBatch(
            entries: [
                sale(seq + 1, points: 30, at: sameBatch), `return`(seq + 2, of: seq + 1, at: nowMs - 2 * day),
                `return`(seq + 3, of: seq, at: nowMs - day),
            ], backlog: 0)
        #expect(try await store.ingest(storeId: "S", batch: batch, nonce: nil, now: now).acknowledgedSeq == seq + 3)
        // Store T takes back S's next sale before S's push reaches head office.
        _ = try await store.ingest(
            storeId: "T",
            batch: PushBatch(entries: [`return`(1, of: seq + 4, at: nowMs - 500, soldAt: "S")], backlog: 0),
            nonce: nil, now: now)
        #expect(try await returnTimes(store, storeId: "T")[1] == nowMs - 500, "its own time until its sale arrives")
        _ = try await store.ingest(
            storeId: "S", batch: PushBatch(entries: [sale(seq + 4, points: 20, at: later)], backlog: 0), nonce: nil,
            now: now)

        let times = try await returnTimes(store, storeId: "S")
        #expect(times[seq + 2] == sameBatch, "a return counts from its sale in the same batch")
        #expect(times[seq + 3] == old, "a return counts from its sale 200 days back")
        #expect(try await returnTimes(store, storeId: "T")[1] == later, "a return counts from a sale that came after")
        #expect(try await keysOutOfStep(store) == 0)
    }

    @Test func aReturnCountsFromItsSalesTimeReadFromTheKeyTable() async throws {
        try await Harness.withStore(.postgres) { any in
            let store = try #require(any as? PostgresHeadOfficeStore)
            let now = Date()
            for id in ["S", "T"] { try await store.addStore(id: id, secret: id, now: now) }
            try await Self.pushReturnsAndCheck(store, now: now, firstSeq: 1)
            // 90 points earned (40 + 30 + 20), 15 taken back by the three returns.
            let member = try #require(try await store.member(card: Self.alice, now: now))
            #expect(member.balance == 90 - 15)
        }
    }

    /// A till offline for a year pushes a sale, its partial return and a later sale in one batch: the member's
    /// 12 months hold the later sale alone (the return counts at its sale's time, outside the window), the same on
    /// both drivers (found by attack: counted at its own time, the return took 500 off the 12 months).
    @Test(arguments: Driver.allCases)
    func aReturnPushedWithItsYearOldSaleLeavesTheTwelveMonths(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            let now = Date()
            let nowMs = now.milliseconds
            try await store.addStore(id: "S", secret: "S", now: now)
            var sale = Self.sale(1, points: 1_000, at: nowMs - 370 * Self.day)
            sale.amountMinor = 100_000
            var partReturn = Self.return(2, of: 1, at: nowMs - 350 * Self.day)
            (partReturn.points, partReturn.amountMinor) = (-500, -50_000)
            var later = Self.sale(3, points: 600, at: nowMs - 10 * Self.day)
            later.amountMinor = 60_000
            let batch = PushBatch(entries: [sale, partReturn, later], backlog: 0)
            #expect(try await store.ingest(storeId: "S", batch: batch, nonce: nil, now: now).acknowledgedSeq == 3)
            let member = try #require(try await store.member(card: Self.alice, now: now))
            #expect(member.balance == 1_100)
            #expect(member.rollingSpendMinor == 60_000)
        }
    }

    /// An upgrade from v49 gives every key its entry's time, and returns pushed after it count as before.
    @Test func anUpgradeGivesEveryKeyItsEntrysTime() async throws {
        try await Harness.withStore(.postgres, postgresSchemaVersion: 49) { any in
            let store = try #require(any as? PostgresHeadOfficeStore)
            let now = Date()
            for id in ["S", "T"] { try await store.addStore(id: id, secret: id, now: now) }
            let nowMs = now.milliseconds
            let history = [
                Self.sale(1, points: 10, at: nowMs - 4_000 * Self.day),
                Self.sale(2, points: 20, at: nowMs - 400 * Self.day),
                Self.return(3, of: 2, at: nowMs - 390 * Self.day), Self.sale(4, points: 5, at: nowMs - 300 * Self.day),
            ]
            _ = try await store.ingest(
                storeId: "S", batch: PushBatch(entries: history, backlog: 0), nonce: nil, now: now)
            #expect(
                try await Self.values(
                    store, "SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'hq_entry_keys'",
                    as: Int64.self) == [2])

            try await store.migrate()

            #expect(try await Self.values(store, "SELECT COUNT(*) FROM hq_entry_keys", as: Int64.self) == [4])
            #expect(try await Self.keysOutOfStep(store) == 0)
            #expect(try await Self.returnTimes(store, storeId: "S") == [3: nowMs - 400 * Self.day])
            try await Self.pushReturnsAndCheck(store, now: now, firstSeq: 5)
        }
    }
}
