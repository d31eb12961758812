// Head office as history grows (issue 21): ingest rate and report times at 1 M, 10 M and 50 M entries on
// PostgreSQL, the history generated inside the database.
//
//   swift build -c release --package-path Benchmarks --product growth-benchmark
//   scripts/with-postgres Benchmarks/.build/release/growth-benchmark [sizes=1000000,10000000,50000000] [members=500000]
//
//   [pace-milliseconds=2500]
//
// History grows backwards from now at a fixed pace (one entry every 2.5 s across 100 stores, about four years
// for 50 M; a pace of 32000 puts a whole 12-month window in the first million), so every stage has the same
// recent traffic and only the history behind it grows: a report that reads only what it needs stays flat; one
// that reads all history grows with it. Members buy mostly at a home store. At each stage, with the same
// program (tiers, points lapsing after a year):
//   - ingest: 20 live stores push 10 batches of 50 entries each (sales, a return in 10, a redemption in 25), in
//     order, through head office's ingest (the store's lock, duplicate check, cards, balances, returns, overdrafts,
//     reconcilers), after one round untimed, timed as entries/s;
//   - reports, each timed: store totals, the dashboard's 14 days and tier counts, overdrafts, stores, 200
//     member look-ups, a store's pull, expiry runs (the stage's first reads every history; the next day's starts
//     from the lots the first kept) and points expiring within 30 days.
// Prints one row per stage and each figure against the first stage's (goal: within ±15 %).
//
// GROWTH_BENCHMARK_KEEP_DATABASE=1 keeps the last stage's database; GROWTH_BENCHMARK_DATABASE=NAME measures such a
// kept database again (no generation, one stage, its runs a day after the kept ones): a change's effect on the same
// history, without generating it again.
import Foundation
import HeadOffice
import Logging
import LoyaltyCore
import PostgresNIO
import SyncProtocol

let arguments = Array(CommandLine.arguments.dropFirst())
let sizes = (arguments.first ?? "1000000,10000000,50000000").split(separator: ",").compactMap { Int($0) }
let memberCount = arguments.dropFirst().first.flatMap(Int.init) ?? 500_000
guard !sizes.isEmpty, sizes == sizes.sorted(), sizes.allSatisfy({ $0 >= 100_000 && $0 % 100 == 0 }),
    memberCount >= 1_000, memberCount % 100 == 0
else {
    print(
        "usage: growth-benchmark [sizes=1000000,10000000,50000000 (ascending, multiples of 100)] [members=500000, a multiple of 100]"
            + " [pace-milliseconds=2500]")
    exit(2)
}
guard let url = ProcessInfo.processInfo.environment["LOYALTY_TEST_POSTGRES_URL"] else {
    print("growth-benchmark needs a PostgreSQL server: run it through scripts/with-postgres")
    exit(2)
}
let logger: Logger = {
    var logger = Logger(label: "growth-benchmark")
    logger.logLevel = .error
    return logger
}()
let clock = ContinuousClock()
func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
let now = Date()
let nowMilliseconds = Int64(now.timeIntervalSince1970 * 1000)
/// One entry every 2.5 s across the chain, unless a third argument says otherwise (a slower pace puts more
/// history behind the 12-month window in fewer entries).
let paceMilliseconds: Int64 = arguments.dropFirst(2).first.flatMap(Int64.init) ?? 2_500
let historyStores = 100
let liveStores = (0..<20).map { String(format: "live%02d", $0) }
let calendar = try ChainCalendar(identifier: "UTC")
let keptDatabase = ProcessInfo.processInfo.environment["GROWTH_BENCHMARK_DATABASE"]
let database = keptDatabase ?? "bench_growth_" + UUID().uuidString.prefix(8).lowercased()

func card(member: Int) -> String { "29" + String(format: "%010d", member) + "0" }
/// SQL of entry `i`'s member (`i` an SQL expression): a quadratic skew (a few members buy far more often), and a
/// home store: member `m` buys at history store (m - 1) mod 100, except in one block of 100 entries in 50, where
/// members buy anywhere. (Spread evenly, every member had a ledger at nearly every store by 10 M entries, and a
/// look-up listed a hundred stores: a cost of the stores a member visits, not of history.)
func member(ofEntry i: String) -> String {
    let skewed =
        "(1 + ((((\(i)) * 2654435761) % 1000003) * (((\(i)) * 2654435761) % 1000003) / 1000003) * \(memberCount) / 1000003)"
    let atHome = "(1 + ((\(skewed) - 1) / \(historyStores)) * \(historyStores) + (\(i)) % \(historyStores))"
    return "(CASE WHEN ((\(i)) / \(historyStores)) % 50 = 0 THEN \(skewed) ELSE \(atHome) END)"
}

func withClient<T>(_ database: String?, _ body: (PostgresClient) async throws -> T) async throws -> T {
    var configuration = try PostgresHeadOfficeStore.configuration(url: url)
    if let database { configuration.database = database }
    let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        return try await body(client)
    }
}

/// Entries `from` < i ≤ `to`: entry i belongs to history store i mod 100 (its sequences stay contiguous), is
/// i × pace before now; every 10th is the return, at another store, of part of the sale a pace before it (entry
/// i + 1, the same member's, named by store and sequence), every 25th redeems.
func generate(from: Int, to: Int, _ client: PostgresClient) async throws {
    let chunk = 1_000_000
    // Their months' partitions first (head office makes only the current and coming months by itself), at most
    // nine years of months a call (the function refuses more than ten).
    let nineYearsMilliseconds: Int64 = 9 * 365 * 86_400_000
    var monthsFrom = nowMilliseconds - Int64(to) * paceMilliseconds
    let monthsUntil = nowMilliseconds - Int64(from + 1) * paceMilliseconds
    while monthsFrom <= monthsUntil {
        try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT hq_prepare_entry_months(\(monthsFrom), \(min(monthsUntil, monthsFrom + nineYearsMilliseconds)))
                    """), logger: logger)
        monthsFrom += nineYearsMilliseconds
    }
    var start = from
    while start < to {
        let end = min(to, start + chunk)
        try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO hq_entries (store_id, seq, id, member_id, card, kind, points, amount_minor, currency, receipt,
                                            refers_to_seq, rule_version, reason, created_at_ms, received_at_ms,
                                            refers_to_store)
                    SELECT 'h' || lpad((i % \(historyStores))::text, 2, '0'), i / \(historyStores) + 1, 'g' || i,
                           m, '29' || lpad(m::text, 10, '0') || '0',
                           CASE WHEN i % 10 = 0 THEN 'reverse' WHEN i % 25 = 0 THEN 'redeem' ELSE 'earn' END,
                           CASE WHEN i % 10 = 0 THEN -1 WHEN i % 25 = 0 THEN -20 ELSE 10 END,
                           CASE WHEN i % 10 = 0 THEN -50 WHEN i % 25 = 0 THEN 0 ELSE 100 + (i * 48271) % 20000 END,
                           'EUR', 'R' || i, CASE WHEN i % 10 = 0 THEN (i + 1) / \(historyStores) + 1 END, 1, NULL,
                           \(nowMilliseconds) - i * \(paceMilliseconds),
                           \(nowMilliseconds) - i * \(paceMilliseconds),
                           CASE WHEN i % 10 = 0 THEN 'h' || lpad(((i + 1) % \(historyStores))::text, 2, '0') END
                    FROM (SELECT i, CASE WHEN i % 10 = 0 THEN \(member(ofEntry: "i + 1")) ELSE \(member(ofEntry: "i")) END AS m
                          FROM generate_series(\(start + 1)::bigint, \(end)::bigint) AS i) AS g
                    """), logger: logger)
        start = end
    }
    // The stores' marks and the members' balances, as ingest would have left them.
    try await client.query(
        PostgresQuery(
            unsafeSQL: """
                UPDATE hq_stores s SET acknowledged_seq = c.n FROM (
                    SELECT 'h' || lpad(k::text, 2, '0') AS id, (\(to) - k) / \(historyStores) + CASE WHEN k = 0 THEN 0 ELSE 1 END AS n
                    FROM generate_series(0, \(historyStores - 1)) AS k) AS c
                WHERE s.id = c.id
                """), logger: logger)
    try await client.query(
        PostgresQuery(
            unsafeSQL: """
                UPDATE hq_stores s SET points_total = t.points
                FROM (SELECT store_id, SUM(points)::bigint AS points FROM hq_entries GROUP BY store_id) t WHERE s.id = t.store_id
                """), logger: logger)
    try await client.query(
        PostgresQuery(
            unsafeSQL: """
                UPDATE hq_members m SET balance = t.points + COALESCE(i.points, 0), lifetime_spend_minor = t.spend FROM (
                    SELECT member_id, SUM(points)::bigint AS points, SUM(amount_minor)::bigint AS spend FROM hq_entries GROUP BY member_id) t
                LEFT JOIN (SELECT member_id, SUM(points)::bigint AS points FROM hq_issued GROUP BY member_id) i
                    ON i.member_id = t.member_id
                WHERE m.id = t.member_id
                """), logger: logger)
    try await client.query("VACUUM ANALYZE", logger: logger)
}

struct Stage {
    var entries: Int
    var ingestPerSecond: Double
    var times: [(name: String, seconds: Double)]
}

func timed(_ name: String, _ body: () async throws -> Void) async throws -> (name: String, seconds: Double) {
    let start = clock.now
    try await body()
    return (name, seconds(clock.now - start))
}

var batchNumber = 0
var pullCursor: Int64 = 0
var stageNumber = 0
var firstRunDay = calendar.today(now) - 30
/// Every live store pushes its next batch of 50 entries of members with a history, in order.
@MainActor func pushRound(_ store: PostgresHeadOfficeStore) async throws {
    for (index, storeId) in liveStores.enumerated() {
        let base = Int64(batchNumber * 50)
        // As the history's traffic: every 10th entry returns part of the sale before it, every 25th redeems (both
        // have head office judge the member's overdrafts).
        let batch = PushBatch(
            entries: (0..<50).map { offset in
                let serial = batchNumber * 50 + offset
                let seq = base + Int64(offset) + 1
                let returning = offset % 10 == 9
                let redeeming = offset % 25 == 12
                let member = 1 + ((returning ? serial - 1 : serial) * 7_919 + index * 104_729) % memberCount
                return SyncEntry(
                    seq: seq, id: "\(storeId)-\(serial)", card: card(member: member),
                    kind: returning ? "reverse" : redeeming ? "redeem" : "earn",
                    points: returning ? -1 : redeeming ? -5 : 10,
                    amountMinor: returning ? -100 : redeeming ? 0 : 1_000, currency: "EUR",
                    receipt: "L\(storeId)-\(returning ? serial - 1 : serial)",
                    refersToSeq: returning ? seq - 1 : nil,
                    ruleVersion: 1, reason: nil, createdAtMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
            }, backlog: 0)
        let result = try await store.ingest(storeId: storeId, batch: batch, nonce: nil, now: Date())
        precondition(result.acknowledgedSeq == base + 50, "ingest of \(storeId) answered \(result)")
    }
    batchNumber += 1
}

@MainActor func measure(_ store: PostgresHeadOfficeStore, entries: Int) async throws -> Stage {
    // One round untimed, so every stage's ingest is timed warm (the first stage's paid for the connections and
    // caches: 947 entries/s at 1 M against 3,253 at 10 M in the run before this one).
    try await pushRound(store)
    let ingestStart = clock.now
    let rounds = 10
    for _ in 0..<rounds { try await pushRound(store) }
    let pushed = rounds * liveStores.count * 50
    let ingestRate = Double(pushed) / seconds(clock.now - ingestStart)
    let today = calendar.today(now)
    var times: [(name: String, seconds: Double)] = []
    times.append(try await timed("totals") { _ = try await store.totals() })
    times.append(
        try await timed("dashboard 14 days") {
            _ = try await store.dailyTotals(sinceMilliseconds: nowMilliseconds - 14 * 86_400_000, calendar: calendar)
        })
    times.append(try await timed("tier counts") { _ = try await store.tierCounts(now: Date()) })
    times.append(try await timed("overdrafts") { _ = try await store.overdrafts() })
    times.append(try await timed("stores") { _ = try await store.stores() })
    times.append(
        try await timed("200 look-ups") {
            for index in 0..<200 {
                _ = try await store.member(card: card(member: 1 + index * 2_477 % memberCount), now: Date())
            }
        })
    times.append(
        try await timed("pull") {
            // Every page of what changed since this till's last pull (the previous stage's): the same sales each time.
            for _ in 0..<1_000 {
                let page = try await store.updates(
                    storeId: liveStores[0], since: pullCursor, storeAcknowledged: nil, now: Date())
                pullCursor = page.cursor
                if !page.more { break }
            }
        })
    // Expiry as a chain runs it, a day at a time (each stage two days later, runs move forward). The stage's first
    // run reads every history (the history generated for this stage is older than the kept lots); the next day's
    // starts from the lots the first kept, as does the report.
    let runDay = firstRunDay + 2 * stageNumber
    let firstRun = try await timed("expiry, first run (whole history)") {
        _ = try await store.runExpiry(asOfDay: runDay, calendar: calendar, actor: "growth-benchmark", now: now)
    }
    times.append(firstRun)
    times.append(
        try await timed("expiry run, next day") {
            _ = try await store.runExpiry(asOfDay: runDay + 1, calendar: calendar, actor: "growth-benchmark", now: now)
        })
    times.append(
        try await timed("expiring 30 d") {
            _ = try await store.expiringPoints(asOfDay: today, withinDays: 30, calendar: calendar)
        })
    stageNumber += 1
    // The runs' entries reached the tills' next pull, not the next stage's: that one pulls the next stage's sales.
    for try await version in try await store.client.query(
        "SELECT change_seq FROM hq_counter WHERE id = 1", logger: logger
    )
    .decode(Int64.self) {
        pullCursor = version
    }
    return Stage(entries: entries, ingestPerSecond: ingestRate, times: times)
}

print(
    "growth-benchmark: PostgreSQL, \(memberCount) members, stages \(sizes.map(String.init).joined(separator: ", ")) entries,"
        + " one every \(paceMilliseconds) ms (12 months: \(365 * 86_400_000 / paceMilliseconds) entries)"
)
var stages: [Stage] = []
@MainActor func report(_ stage: Stage) {
    let first = stages[0]
    var line = String(
        format: "%11d entries: ingest %6.0f entries/s (%.2f×)", stage.entries, stage.ingestPerSecond,
        stage.ingestPerSecond / first.ingestPerSecond)
    for (index, time) in stage.times.enumerated() {
        line += String(
            format: "; %@ %.3f s (%.2f×)", time.name, time.seconds, time.seconds / max(first.times[index].seconds, 1e-6)
        )
    }
    print(line)
}
/// One stage on a database an earlier run kept: its live stores push on from their marks, the runs go on a day
/// after the kept lots' day.
@MainActor func measureAgain(_ database: String) async throws {
    try await withClient(database) { client in
        let store = PostgresHeadOfficeStore(client: client, logger: logger)
        try await store.migrate()
        var entries = 0
        for try await (count, acknowledged, checkpoint, cursor) in try await client.query(
            """
            SELECT (SELECT COUNT(*) FROM hq_entries), (SELECT acknowledged_seq FROM hq_stores WHERE id = 'live00'),
                   (SELECT checkpoint_ms FROM hq_lot_horizon WHERE id = 1), (SELECT change_seq FROM hq_counter WHERE id = 1)
            """, logger: logger
        ).decode((Int64, Int64, Int64?, Int64).self) {
            entries = Int(count)
            batchNumber = Int(acknowledged / 50)
            firstRunDay = checkpoint.map { calendar.day(milliseconds: $0) + 1 } ?? firstRunDay
            pullCursor = cursor
        }
        // Its live stores' sales go to members 1…members: the same count as it was generated with, or they would
        // enrol new members (and look-ups find nobody).
        var generatedMembers: Int64 = 0
        for try await count in try await client.query(
            "SELECT COUNT(*) FROM hq_members WHERE first_card = '29' || lpad(id::text, 10, '0') || '0'", logger: logger
        ).decode(Int64.self) {
            generatedMembers = count
        }
        guard generatedMembers == memberCount else {
            print("\(database) was generated with \(generatedMembers) members: give that number as the second argument")
            exit(2)
        }
        print("measuring kept database \(database) again: \(entries) entries, its expiry runs a day after the last")
        let stage = try await measure(store, entries: entries)
        stages.append(stage)
        report(stage)
    }
}

/// Generates each stage's history and measures it.
@MainActor func generateAndMeasure() async throws {
    try await withClient(nil) {
        try await $0.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(database)"), logger: logger)
    }
    try await withClient(database) { client in
        let store = PostgresHeadOfficeStore(client: client, logger: logger)
        try await store.migrate()
        if ProcessInfo.processInfo.environment["GROWTH_BENCHMARK_VIEW"] == "computed" {
            // The baseline: schema v43's view, whose time is computed for every entry (no index reaches the window).
            try await client.query(
                PostgresQuery(unsafeSQL: PostgresHeadOfficeStore.tierRowsBeforeWindowStatement), logger: logger)
            try await client.query("DROP INDEX IF EXISTS hq_entries_member_returns", logger: logger)
            print("baseline: hq_tier_rows as in schema v43 (each entry's time computed)")
        }
        for index in 0..<historyStores {
            try await store.addStore(id: String(format: "h%02d", index), secret: "growth-secret-0123456789", now: now)
        }
        for id in liveStores { try await store.addStore(id: id, secret: "growth-secret-0123456789", now: now) }
        try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO hq_members (id, first_card, balance, lifetime_spend_minor, version, created_at_ms)
                    SELECT i, '29' || lpad(i::text, 10, '0') || '0', 0, 0, 0, \(nowMilliseconds - 5 * 365 * 86_400_000)
                    FROM generate_series(1, \(memberCount)) AS i;
                    """), logger: logger)
        try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO hq_cards (card, member_id, blocked, version) SELECT first_card, id, FALSE, 0 FROM hq_members
                    """), logger: logger)
        try await client.query(
            PostgresQuery(unsafeSQL: "SELECT setval(pg_get_serial_sequence('hq_members', 'id'), \(memberCount))"),
            logger: logger)
        let program = try ProgramFile.parse(
            """
            valid_from: 2000-01-01T00:00:00Z
            earning: {points_per_unit: 1, rounding: down}
            tiers:
              - {name: base, min_rolling_spend: "0", earn_multiplier_percent: 100}
              - {name: silver, min_rolling_spend: "500.00", earn_multiplier_percent: 125}
            redemption: {point_value_minor: 1, minimum_points: 1, step_points: 1}
            expiry: {after_days: 365}
            """)
        _ = try await store.publishProgram(program, actor: "growth-benchmark", now: now)
        var generatedUpTo = 0
        for size in sizes {
            let generation = clock.now
            try await generate(from: generatedUpTo, to: size, client)
            generatedUpTo = size
            print(String(format: "%d entries generated (%.0f s); measuring…", size, seconds(clock.now - generation)))
            let stage = try await measure(store, entries: size)
            stages.append(stage)
            report(stage)
        }
    }
}

if let keptDatabase {
    try await measureAgain(keptDatabase)
} else {
    try await generateAndMeasure()
}

if keptDatabase != nil || ProcessInfo.processInfo.environment["GROWTH_BENCHMARK_KEEP_DATABASE"] == "1" {
    print("kept database \(database) for a look with psql")  // to read a query's plan on the last stage's history
} else {
    try await withClient(nil) {
        try await $0.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(database) WITH (FORCE)"), logger: logger)
    }
}
print("goal: every figure within ±15 % of the first stage's (0.85× … 1.15×)")
