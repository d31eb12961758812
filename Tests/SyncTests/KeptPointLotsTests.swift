import Foundation
import GRDB
import LoyaltyCore
import PostgresNIO
import SyncProtocol
import TestSupport
import Testing

@testable import HeadOffice

/// Expiry runs keep each member's lots (schema v48) and the next run and `report expiring` start from them. Whatever
/// arrives late (a till offline across a run, a return of a sale whose points already lapsed, a merge), their answers
/// must be those of a head office that replays every history in full: a twin fed the same entries whose kept lots are
/// wiped before each question is the oracle.
@Suite struct KeptPointLotsTests {
    static let cards = ["2900000777774", "2900000123458", "2900000999990", "2900000555555"]
    static let stores = ["A", "B", "C"]
    static let day: Int64 = 86_400_000

    static let program = """
        valid_from: 2020-01-01T00:00:00Z
        earning: {points_per_unit: 1, rounding: down}
        tiers:
          - {name: base, min_rolling_spend: "0", earn_multiplier_percent: 100}
        redemption: {point_value_minor: 1, minimum_points: 1, step_points: 1}
        expiry: {after_days: 60}
        """

    /// Each store's entries in time order over 300 days: sales, returns of sales at any store (often after their
    /// points lapsed), redemptions (sometimes more than the balance, as offline tills can).
    static func history(nowMilliseconds: Int64, _ random: inout SeededRandom) -> [KeptMemberFiguresTests.Sent] {
        var times = (0..<50).map { _ in nowMilliseconds - Int64.random(in: 2...300, using: &random) * day }
        times.sort()
        var sequence: [String: Int64] = [:]
        var sales: [(store: String, entry: SyncEntry, left: Int64)] = []
        var result: [KeptMemberFiguresTests.Sent] = []
        for (index, time) in times.enumerated() {
            let store = stores.randomElement(using: &random)!
            let seq = (sequence[store] ?? 0) + 1
            sequence[store] = seq
            var entry = Harness.entry(
                seq, card: cards.randomElement(using: &random)!, points: 0, at: time + Int64(index))
            entry.id = "\(store):\(seq)"
            entry.receipt = "\(store)-R\(seq)"
            let open = sales.indices.filter { sales[$0].left > 0 }
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<3 where !open.isEmpty:
                KeptMemberFiguresTests.returnPart(
                    of: &sales[open.randomElement(using: &random)!], as: &entry, at: store, &random)
            case 3..<5:
                entry.kind = "redeem"
                entry.points = -Int64.random(in: 1...120, using: &random)
                entry.amountMinor = 0
            default:
                entry.amountMinor = Int64.random(in: 100...20_000, using: &random)
                entry.points = entry.amountMinor / 100
                sales.append((store, entry, entry.amountMinor))
            }
            result.append(.init(store: store, entry: entry))
        }
        return result
    }

    /// Runs `statement` on the store's own database.
    static func execute(_ statement: String, on store: any HeadOfficeStore) async throws {
        if let postgres = store as? PostgresHeadOfficeStore {
            try await postgres.client.query(PostgresQuery(unsafeSQL: statement), logger: Harness.logger)
        } else if let sqlite = store as? SQLiteHeadOfficeStore {
            try await sqlite.pool.write { try $0.execute(sql: statement) }
        }
    }

    /// The twin forgets its kept lots: its next answer replays every history.
    static func forget(_ twin: any HeadOfficeStore) async throws {
        try await execute("DELETE FROM hq_lot_checkpoints", on: twin)
        try await execute("UPDATE hq_lot_horizon SET checkpoint_ms = NULL, lifetime_ms = NULL", on: twin)
    }

    @Test(arguments: Driver.allCases)
    func runsAndReportsFromKeptLotsAnswerAsAFullReplayWhateverArrivesLate(_ driver: Driver) async throws {
        var random = SeededRandom(seed: TestSeed.make("KeptPointLotsTests.\(driver)"))
        var resumedFolds = 0
        for _ in 0..<3 {
            resumedFolds += try await Self.compareWithTwin(driver, &random)
        }
        #expect(resumedFolds > 0, "the runs did start from kept lots")
    }

    /// One history delivered to a head office and its twin; answers the number of folds that started from kept lots.
    static func compareWithTwin(_ driver: Driver, _ random: inout SeededRandom) async throws -> Int {
        try await Harness.withStore(driver) { store in
            try await Harness.withStore(driver) { twin in
                let now = Date()
                let calendar = try ChainCalendar(identifier: "UTC")
                let today = calendar.today(now)
                for head in [store, twin] {
                    for id in stores { try await head.addStore(id: id, secret: "s\(id)", now: now) }
                    _ = try await head.publishProgram(try ProgramFile.parse(program), actor: "test", now: now)
                }
                let history = Self.history(nowMilliseconds: now.milliseconds, &random)
                var queues = Dictionary(grouping: history, by: \.store)
                var runDay = today - 300
                var resumedFolds = 0
                var delivered = 0
                var known: Set<String> = []
                while delivered < history.count || runDay < today {
                    switch Int.random(in: 0..<8, using: &random) {
                    case 0..<4:
                        guard
                            let storeId = queues.filter({ !$0.value.isEmpty }).keys.sorted().randomElement(
                                using: &random)
                        else { continue }
                        let count = min(queues[storeId]!.count, Int.random(in: 1...5, using: &random))
                        let batch = PushBatch(entries: queues[storeId]!.prefix(count).map(\.entry), backlog: 0)
                        queues[storeId]!.removeFirst(count)
                        delivered += count
                        known.formUnion(batch.entries.map(\.card))
                        for head in [store, twin] {
                            _ = try await head.ingest(storeId: storeId, batch: batch, nonce: nil, now: now)
                        }
                    case 4..<6 where runDay < today:
                        runDay = min(today, runDay + Int.random(in: 1...40, using: &random))
                        let run = try await store.runExpiry(
                            asOfDay: runDay, calendar: calendar, actor: "test", now: now)
                        try await forget(twin)
                        let expected = try await twin.runExpiry(
                            asOfDay: runDay, calendar: calendar, actor: "test", now: now)
                        #expect(run == expected, "run as of day \(runDay) after \(delivered) entries")
                        let lifetime = 60 * day
                        let (_, fold) = try await store.foldPointHistories(
                            resuming: .init(lifetimeMilliseconds: lifetime, asOfMilliseconds: Int64.max), into: 0
                        ) { _, _ in }
                        if fold.resumed { resumedFolds += 1 }
                    case 6:
                        let pair = known.sorted().shuffled(using: &random).prefix(2)
                        guard pair.count == 2,
                            try await store.member(card: pair.first!, now: now)?.cards.contains(pair.last!) == false
                        else { continue }
                        for head in [store, twin] {
                            try await head.mergeMembers(
                                keep: pair.first!, other: pair.last!, actor: "test", reason: nil, now: now)
                        }
                    default:
                        let asOf = runDay + Int.random(in: 0...20, using: &random)
                        guard asOf <= today else { continue }
                        let within = Int.random(in: 1...70, using: &random)
                        let report = try await store.expiringPoints(
                            asOfDay: asOf, withinDays: within, calendar: calendar)
                        try await forget(twin)
                        let expected = try await twin.expiringPoints(
                            asOfDay: asOf, withinDays: within, calendar: calendar)
                        #expect(
                            report == expected, "expiring as of day \(asOf) within \(within) after \(delivered) entries"
                        )
                    }
                }
                for card in cards {
                    let balance = try await store.member(card: card, now: now)?.balance
                    #expect(balance == (try await twin.member(card: card, now: now)?.balance), "balance of \(card)")
                }
                return resumedFolds
            }
        }
    }

    /// A run as of today keeps lots as of an hour ago: the day's sales that tills go on syncing are no late entries
    /// (else a nightly run would leave every member who shops the next day to be read in full); a sale from a till
    /// offline for longer marks its member, and the next run settles the mark.
    @Test(arguments: Driver.allCases)
    func todaysSalesAfterARunAreNotLateButAnOfflineTillsAre(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            let now = Date()
            let calendar = try ChainCalendar(identifier: "UTC")
            try await store.addStore(id: "A", secret: "sA", now: now)
            try await store.addStore(id: "B", secret: "sB", now: now)
            _ = try await store.publishProgram(try ProgramFile.parse(Self.program), actor: "test", now: now)
            func sale(_ seq: Int64, card: String, minutesAgo: Int64) -> PushBatch {
                var entry = Harness.entry(seq, card: card, points: 10, at: now.milliseconds - minutesAgo * 60_000)
                entry.id = "\(card):\(seq)"
                entry.receipt = "R\(seq)"
                return PushBatch(entries: [entry], backlog: 0)
            }
            func marked() async throws -> Int64 {
                if let postgres = store as? PostgresHeadOfficeStore {
                    var count: Int64 = 0
                    for try await value in try await postgres.client.query(
                        "SELECT COUNT(DISTINCT member_id) FROM hq_lot_dirty", logger: Harness.logger
                    ).decode(Int64.self) {
                        count = value
                    }
                    return count
                }
                let sqlite = try #require(store as? SQLiteHeadOfficeStore)
                return try await sqlite.pool.read {
                    try Int64.fetchOne($0, sql: "SELECT COUNT(DISTINCT member_id) FROM hq_lot_dirty") ?? 0
                }
            }
            _ = try await store.ingest(
                storeId: "A", batch: sale(1, card: Self.cards[0], minutesAgo: 300), nonce: nil, now: now)
            _ = try await store.runExpiry(asOfDay: calendar.today(now), calendar: calendar, actor: "test", now: now)
            _ = try await store.ingest(
                storeId: "A", batch: sale(2, card: Self.cards[1], minutesAgo: 2), nonce: nil, now: now)
            #expect(try await marked() == 0, "a sale synced as usual after the run is not late")
            // Store B's till was offline: its sale of two hours ago comes now.
            _ = try await store.ingest(
                storeId: "B", batch: sale(1, card: Self.cards[2], minutesAgo: 120), nonce: nil, now: now)
            #expect(try await marked() == 1, "a sale from two hours ago arrives late: its member is read in full")
            let report = try await store.expiringPoints(
                asOfDay: calendar.today(now) + 50, withinDays: 30, calendar: calendar)
            #expect(
                report.map(\.card) == [Self.cards[0], Self.cards[1], Self.cards[2]].sorted()
                    && report.allSatisfy { $0.points == 10 })
            _ = try await store.runExpiry(asOfDay: calendar.today(now), calendar: calendar, actor: "test", now: now)
            #expect(try await marked() == 0, "the next run settles the mark")
            let again = try await store.expiringPoints(
                asOfDay: calendar.today(now) + 50, withinDays: 30, calendar: calendar)
            #expect(again == report)
        }
    }

    /// Kept lots deleted by hand (a "cache" cleared, the advice for a damaged row) or damaged: the members are read in
    /// full and answer as before; the next run keeps their lots again (found by attack: deleted rows were taken for
    /// members without history before the kept moment, and 100 points never expired).
    @Test(arguments: Driver.allCases)
    func keptLotsDeletedOrDamagedAreReadPast(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            let now = Date()
            let calendar = try ChainCalendar(identifier: "UTC")
            let today = calendar.today(now)
            try await store.addStore(id: "A", secret: "sA", now: now)
            _ = try await store.publishProgram(try ProgramFile.parse(Self.program), actor: "test", now: now)
            for (index, card) in Self.cards.enumerated() {
                var entry = Harness.entry(
                    Int64(index + 1), card: card, points: 100, at: now.milliseconds - 70 * Self.day)
                entry.id = "A:\(index + 1)"
                entry.receipt = "A-R\(index + 1)"
                _ = try await store.ingest(
                    storeId: "A", batch: PushBatch(entries: [entry], backlog: 0), nonce: nil, now: now)
            }
            // Kept before anything lapsed (60 days: they lapse 10 days ago).
            #expect(
                try await store.runExpiry(asOfDay: today - 40, calendar: calendar, actor: "test", now: now)
                    .expiredPoints == 0)
            let expected = try await store.expiringPoints(asOfDay: today - 20, withinDays: 20, calendar: calendar)
            #expect(expected.count == 4 && expected.allSatisfy { $0.points == 100 })

            try await Self.execute(
                "DELETE FROM hq_lot_checkpoints WHERE member_id IN (SELECT member_id FROM hq_cards WHERE card = '\(Self.cards[0])')",
                on: store)
            let damaged = driver == .postgres ? "'\\x01'::bytea" : "x'01'"
            try await Self.execute(
                "UPDATE hq_lot_checkpoints SET lots = \(damaged) WHERE member_id IN (SELECT member_id FROM hq_cards WHERE card = '\(Self.cards[1])')",
                on: store)
            #expect(try await store.expiringPoints(asOfDay: today - 20, withinDays: 20, calendar: calendar) == expected)
            let run = try await store.runExpiry(asOfDay: today - 5, calendar: calendar, actor: "test", now: now)
            #expect(run.expiredPoints == 400 && run.members.count == 4, "every member's lapsed points, kept or not")
            #expect(try await store.expiringPoints(asOfDay: today - 5, withinDays: 20, calendar: calendar).isEmpty)
            // All kept again: a cleared table reads everything in full, and answers the same.
            try await Self.execute("DELETE FROM hq_lot_checkpoints", on: store)
            for card in Self.cards { #expect(try await store.member(card: card, now: now)?.balance == 0) }
            #expect(
                try await store.runExpiry(asOfDay: today, calendar: calendar, actor: "test", now: now).members.isEmpty)
        }
    }

    /// Two runs for different days at once took the same points twice (found by attack: balance -100): a run waits
    /// for none, it is refused while another holds the lock, and runs one after the other as before.
    @Test(arguments: Driver.allCases)
    func aSecondRunWhileOneIsInProgressIsRefused(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            let now = Date()
            let calendar = try ChainCalendar(identifier: "UTC")
            _ = try await store.publishProgram(try ProgramFile.parse(Self.program), actor: "test", now: now)
            try await store.withExpiryRunLock {
                await #expect(throws: ExpiryRefusal.self) {
                    try await store.runExpiry(asOfDay: calendar.today(now), calendar: calendar, actor: "test", now: now)
                }
            }
            let run = try await store.runExpiry(
                asOfDay: calendar.today(now), calendar: calendar, actor: "test", now: now)
            #expect(run.expiredPoints == 0)
        }
    }

    /// The lock holds whichever way the database is named (found by attack: a symbolic link to the SQLite file took
    /// another lock, and two runs took the same points), and outlives a server's idle-in-transaction timeout (found by
    /// attack: PostgreSQL ended the lock's connection during a run and the run died).
    @Test(arguments: Driver.allCases)
    func theLockHoldsThroughALinkAndAServersIdleTimeout(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            let now = Date()
            let calendar = try ChainCalendar(identifier: "UTC")
            _ = try await store.publishProgram(try ProgramFile.parse(Self.program), actor: "test", now: now)
            if let sqlite = store as? SQLiteHeadOfficeStore {
                let link = sqlite.path + "-link.db"
                try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: sqlite.path)
                let linked = try SQLiteHeadOfficeStore(path: link)
                try await store.withExpiryRunLock {
                    await #expect(throws: ExpiryRefusal.self) {
                        try await linked.runExpiry(
                            asOfDay: calendar.today(now), calendar: calendar, actor: "t", now: now)
                    }
                }
            } else if let postgres = store as? PostgresHeadOfficeStore {
                var database = ""
                for try await name in try await postgres.client.query(
                    "SELECT current_database()", logger: Harness.logger
                )
                .decode(String.self) {
                    database = name
                }
                try await Self.execute(
                    "ALTER DATABASE \(database) SET idle_in_transaction_session_timeout = 200", on: store)
                // A client of its own: its connections start with the setting; the lock waits idle for longer.
                try await Harness.withServer(database: database) { fresh in
                    try await fresh.withExpiryRunLock { try await Task.sleep(for: .milliseconds(800)) }
                }
            }
            #expect(
                try await store.runExpiry(asOfDay: calendar.today(now), calendar: calendar, actor: "t", now: now)
                    .members.isEmpty)
        }
    }
}
