// Head-office segment and report computation on a large chain, vs the database's own cost of the
// same history query (measured in the same run: stepped through in C for SQLite, run and summed inside
// the server for PostgreSQL).
//
//   swift run -c release --package-path Benchmarks segments-benchmark sqlite [members=200000] [entries=4000000]
//   scripts/with-postgres swift run -c release --package-path Benchmarks segments-benchmark postgres [members] [entries]
//
// The history is generated inside the database (every 10th entry a partial refund; each member's
// sales spread over two years), then timed: member facts streamed from the database, RFM,
// lifecycle, super users, loyalty types and the BG/NBD + Gamma-Gamma fit with every member's
// lifetime value. Peak resident memory is printed: run two entry counts to see it does not grow.
import Foundation
import HeadOffice
import Logging
import LoyaltyCore
import PostgresNIO
import RawSQLiteLoop

let arguments = Array(CommandLine.arguments.dropFirst())
let driver = arguments.first ?? "sqlite"
let memberCount = arguments.dropFirst().first.flatMap(Int.init) ?? 200_000
let entryCount = arguments.dropFirst(2).first.flatMap(Int.init) ?? 4_000_000
let clock = ContinuousClock()
let start: Int64 = 1_700_000_000_000
let step = 2 * 365 * 86_400_000 / Int64(entryCount)
func seconds(_ duration: Duration) -> Double { Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }
func peakResidentMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}
var logger = Logger(label: "segments-benchmark")
logger.logLevel = .error

/// Generation SQL. Entry i's sale belongs to a member drawn with a quadratic skew (a few members buy
/// far more often than most) at a time spread by a permutation over that member's active years; a refund
/// (i % 10 = 0) belongs to entry i − 1's sale and comes a day after it.
func generation(series: String, pad: (String) -> String) -> [String] {
    func member(_ i: String) -> String {
        "(1 + ((((\(i)) * 2654435761) % 1000003) * (((\(i)) * 2654435761) % 1000003) / 1000003) * \(memberCount) / 1000003)"
    }
    // Member m is a customer from day (m·7919 mod 365) for 36 … 729 days, then drops out.
    func time(_ i: String) -> String {
        let m = member(i)
        return "(\(start) + ((\(m) * 7919) % 365) * 86400000 + (((\(i)) * 104729) % \(entryCount)) * (36 + (\(m) * 31337) % 694) * 86400000 / \(entryCount))"
    }
    return [
        "INSERT INTO hq_stores (id, secret, acknowledged_seq, reported_backlog, created_at_ms) VALUES ('B', 's', \(entryCount), 0, 0)",
        """
        INSERT INTO hq_members (id, first_card, balance, lifetime_spend_minor, version, created_at_ms)
        SELECT i, '29' || \(pad("i")), 0, 0, 0, \(start) FROM \(series.replacingOccurrences(of: "COUNT", with: String(memberCount)))
        """,
        """
        INSERT INTO hq_entries (store_id, seq, id, member_id, card, kind, points, amount_minor, currency, receipt,
                                refers_to_seq, rule_version, reason, created_at_ms, received_at_ms)
        SELECT 'B', i, 'e' || i,
               CASE WHEN i % 10 = 0 THEN \(member("i - 1")) ELSE \(member("i")) END,
               '29' || \(pad("CASE WHEN i % 10 = 0 THEN \(member("i - 1")) ELSE \(member("i")) END")),
               CASE WHEN i % 10 = 0 THEN 'reverse' ELSE 'earn' END,
               CASE WHEN i % 10 = 0 THEN -1 ELSE 10 END,
               CASE WHEN i % 10 = 0 THEN -50 ELSE 100 + (i * 48271) % 20000 END,
               'EUR', 'R' || CASE WHEN i % 10 = 0 THEN i - 1 ELSE i END,
               CASE WHEN i % 10 = 0 THEN i - 1 END, 1, NULL,
               CASE WHEN i % 10 = 0 THEN \(time("i - 1")) + 86400000 ELSE \(time("i")) END, \(start)
        FROM \(series.replacingOccurrences(of: "COUNT", with: String(entryCount)))
        """,
    ]
}

/// Everything a head-office operator runs, timed as one.
func reports(_ store: any HeadOfficeStore, asOfDay: Int) async throws -> (Duration, Int) {
    let calendar = try ChainCalendar(identifier: "UTC")
    let settings = AnalyticsSettings()
    let began = clock.now
    let facts = try await store.memberFacts(asOfDay: asOfDay, calendar: calendar)
    let factsTime = clock.now - began
    let scores = RFMAnalysis.scores(facts, asOfDay: asOfDay, settings: settings)
    let stages = LifecycleAnalysis.stages(facts, asOfDay: asOfDay, settings: settings)
    let superUsers = SuperUsers(facts, settings: settings)
    let types = LoyaltyTypeAnalysis.types(facts, asOfDay: asOfDay, settings: settings)
    if ProcessInfo.processInfo.environment["SEGMENTS_PROFILE"] != nil {
        let buyers = facts.filter { $0.firstSaleDay != nil }
        let histories = buyers.map {
            RepeatPurchaseHistory(
                frequency: Double($0.saleDays - 1), recency: Double($0.lastSaleDay! - $0.firstSaleDay!) / 7,
                age: Double(asOfDay - $0.firstSaleDay!) / 7)
        }
        var t = clock.now
        let model = try BetaGeometricNBD.fit(histories)
        print("  BG/NBD fit \(clock.now - t) distinct \(Set(histories).count): \(model)")
        t = clock.now
        let spend = try GammaGammaSpend.fit(zip(buyers, histories).map { ($1.frequency, Double($0.repeatSpendMinorUnits) / 100 / max(1, $1.frequency)) })
        print("  Gamma-Gamma fit \(clock.now - t): \(spend)")
        t = clock.now
        let expected = histories.reduce(0.0) { $0 + model.expectedPurchases($1, weeks: 52) }
        print("  predictions \(clock.now - t) (Σ \(expected))")
    }
    let modelsStart = clock.now
    let value = try LifetimeValueReport(facts, asOfDay: asOfDay, settings: settings)
    let total = clock.now - began
    print(String(
        format: "  facts %.2f s, segments %.2f s, lifetime value %.2f s; %d scored, %d stages, %d super users, %d types, %d valued",
        seconds(factsTime), seconds(modelsStart - began - factsTime), seconds(clock.now - modelsStart), scores.count,
        stages.count, superUsers.k, types.count, value.members.count))
    return (total, facts.count)
}

let asOfDay = Int(start / 86_400_000) + 365 + 730 + 2
let end = (Int64(asOfDay) + 1) * 86_400_000
print("segments-benchmark \(driver): \(memberCount) members, \(entryCount) entries")
switch driver {
case "sqlite":
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("segments-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("hq.db").path
    try await SQLiteHeadOfficeStore(path: path).migrate()
    let generated = clock.now
    let rc = raw_exec(
        path,
        "BEGIN;" + generation(
            series: "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < COUNT) SELECT i FROM n)",
            pad: { "printf('%011d', \($0))" }
        ).joined(separator: ";\n") + ";COMMIT;")
    guard rc == 0 else { fatalError("generating the history failed: SQLite error \(rc)") }
    print(String(format: "  generated in %.1f s", seconds(clock.now - generated)))
    let store = try SQLiteHeadOfficeStore(path: path)
    for run in 1...3 {
        let baselineStart = clock.now
        let rows = raw_scan(path, AnalyticsQueries.sqliteSales, end)
        let baseline = clock.now - baselineStart
        let (ours, members) = try await reports(store, asOfDay: asOfDay)
        print(String(
            format: "run %d: reports %.2f s for %d members; baseline (the history query stepped in C, %lld sales) %.2f s; ratio %.2f; peak RSS %.0f MiB",
            run, seconds(ours), members, rows, seconds(baseline), seconds(ours) / seconds(baseline), peakResidentMiB()))
    }
case "postgres":
    guard let url = ProcessInfo.processInfo.environment["LOYALTY_TEST_POSTGRES_URL"] else {
        print("postgres needs LOYALTY_TEST_POSTGRES_URL: run it through scripts/with-postgres")
        exit(2)
    }
    let database = "segments_" + UUID().uuidString.prefix(8).lowercased()
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
    try await withClient(nil) { try await $0.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(database)"), logger: logger) }
    try await withClient(database) { client in
        let store = PostgresHeadOfficeStore(client: client, logger: logger)
        try await store.migrate()
        let generated = clock.now
        for statement in generation(series: "generate_series(1::bigint, COUNT) AS i", pad: { "lpad((\($0))::text, 11, '0')" }) {
            try await client.query(PostgresQuery(unsafeSQL: statement), logger: logger)
        }
        try await client.query("ANALYZE", logger: logger)
        print(String(format: "  generated in %.1f s", seconds(clock.now - generated)))
        for run in 1...3 {
            let baselineStart = clock.now
            var bindings = PostgresBindings()
            bindings.append(end)
            // The server runs the whole history query and sums it: its own cost, no rows on the wire.
            var rows = 0
            for try await (count, _) in try await client.query(
                PostgresQuery(unsafeSQL: "SELECT COUNT(*), COALESCE(SUM(net), 0)::bigint FROM (\(AnalyticsQueries.postgresSales)) AS history", binds: bindings),
                logger: logger
            ).decode((Int64, Int64).self) {
                rows = Int(count)
            }
            let baseline = clock.now - baselineStart
            let (ours, members) = try await reports(store, asOfDay: asOfDay)
            print(String(
                format: "run %d: reports %.2f s for %d members; baseline (the history query run and summed in the server, %d sales) %.2f s; ratio %.2f; peak RSS %.0f MiB",
                run, seconds(ours), members, rows, seconds(baseline), seconds(ours) / seconds(baseline), peakResidentMiB()))
        }
    }
    try await withClient(nil) { try await $0.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(database) WITH (FORCE)"), logger: logger) }
default:
    print("usage: segments-benchmark sqlite|postgres [members] [entries]")
    exit(2)
}
