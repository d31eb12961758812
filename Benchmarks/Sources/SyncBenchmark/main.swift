// Head-office ingest over HTTP vs a raw PostgreSQL baseline, and a 50,000-entry catch-up.
//
//   scripts/with-postgres swift run -c release --package-path Benchmarks sync-benchmark [stores=4] [batches=20] [catchup=50000]
//
// 1. Ingest: `stores` concurrent stores each POST `batches` signed, gzip'd 500-entry batches to an
//    in-process loyalty-hq on PostgreSQL, vs the same database work (nonce, store lock, duplicate
//    check, card and member locks, idempotent insert, balances, change counter, acknowledged mark)
//    as hand-written SQL through postgres-nio without HTTP, one transaction per batch, same concurrency.
// 2. Catch-up: one store whose ledger holds `catchup` unsynced entries runs one SyncClient sync, vs
//    the same outbox pages written by the raw SQL path (measured, not estimated).
import AsyncHTTPClient
import CompressNIO
import Foundation
import HeadOffice
import Hummingbird
import LedgerStore
import Logging
import LoyaltyCore
import NIOCore
import NIOFoundationCompat
import PostgresNIO
import SyncClient
import SyncProtocol

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let storeCount = arguments.first ?? 4
let batchesPerStore = arguments.dropFirst().first ?? 20
let catchUpEntries = arguments.dropFirst(2).first ?? 50_000
enum Bench {
    static let batchSize = 500
    static let logger: Logger = {
        var logger = Logger(label: "sync-benchmark")
        logger.logLevel = .error
        return logger
    }()
    static let baseURL = ProcessInfo.processInfo.environment["LOYALTY_TEST_POSTGRES_URL"]
}
let batchSize = Bench.batchSize
let logger = Bench.logger
let clock = ContinuousClock()
func seconds(_ duration: Duration) -> Double { Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }

guard Bench.baseURL != nil else {
    print("sync-benchmark needs PostgreSQL: run it as `scripts/with-postgres swift run -c release --package-path Benchmarks sync-benchmark`")
    exit(2)
}

func withClient<T>(database: String?, _ body: (PostgresClient) async throws -> T) async throws -> T {
    let logger = Bench.logger
    var configuration = try PostgresHeadOfficeStore.configuration(url: Bench.baseURL!)
    if let database { configuration.database = database }
    configuration.options.maximumConnections = 32
    let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        return try await body(client)
    }
}

func freshDatabase(_ name: String) async throws {
    let logger = Bench.logger
    try await withClient(database: nil) { client in
        try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
        try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
    }
}

func entries(store: Int, batch: Int) -> [SyncEntry] {
    let batchSize = Bench.batchSize
    return (0..<batchSize).map { index in
        let seq = Int64(batch * batchSize + index + 1)
        let card = "29\(String(format: "%011d", (store * 7919 + index * 31 + batch) % 20_000))"
        return SyncEntry(
            seq: seq, id: "s\(store)-\(seq)", card: card, kind: "earn", points: 12, amountMinor: 1_250, currency: "EUR",
            receipt: "R\(store)-\(seq)", refersToSeq: nil, ruleVersion: 1, reason: nil, createdAtMilliseconds: 1_795_340_000_000 + seq)
    }
}

func withServer<T>(_ store: any HeadOfficeStore, _ body: (URL) async throws -> T) async throws -> T {
    let logger = Bench.logger
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let app = Application(
        router: HeadOfficeAPI(store: store).router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.run() }
        defer { group.cancelAll() }
        var iterator = ports.makeAsyncIterator()
        let port = await iterator.next()!
        return try await body(URL(string: "http://127.0.0.1:\(port)")!)
    }
}

let total = storeCount * batchesPerStore * batchSize
print("sync-benchmark: \(storeCount) concurrent stores × \(batchesPerStore) batches × \(batchSize) entries = \(total) entries into PostgreSQL")

// 1a. Ours: signed, gzip'd HTTP batches into loyalty-hq's PostgreSQL driver.
try await freshDatabase("bench_http")
let oursSeconds = try await withClient(database: "bench_http") { client in
    let store = PostgresHeadOfficeStore(client: client, logger: logger)
    try await store.migrate()
    for index in 0..<storeCount { try await store.addStore(id: "store\(index)", secret: "secret\(index)", now: Date()) }
    // Bodies are encoded and compressed before the clock starts: this measures head office.
    let bodies: [[ByteBuffer]] = try (0..<storeCount).map { storeIndex in
        try (0..<batchesPerStore).map { batch in
            var plain = ByteBuffer(bytes: try JSONEncoder().encode(PushBatch(entries: entries(store: storeIndex, batch: batch), backlog: 0)))
            return try plain.compress(with: .gzip)
        }
    }
    return try await withServer(store) { base in
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for storeIndex in 0..<storeCount {
                group.addTask {
                    let path = "/v1/stores/store\(storeIndex)/batches"
                    for body in bodies[storeIndex] {
                        var request = HTTPClientRequest(url: base.absoluteString + path)
                        request.method = .POST
                        for (name, value) in RequestSigning.headers(storeId: "store\(storeIndex)", secret: "secret\(storeIndex)", method: "POST", path: path, body: body.readableBytesView) {
                            request.headers.add(name: name, value: value)
                        }
                        request.headers.add(name: "Content-Encoding", value: "gzip")
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.body = .bytes(body)
                        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                        let answer = try await response.body.collect(upTo: 1 << 20)
                        precondition(response.status == .ok, "ingest failed: \(response.status) \(String(buffer: answer))")
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = seconds(clock.now - start)
        let totals = try await store.totals()
        precondition(totals.reduce(0) { $0 + $1.entries } == Int64(total), "not every entry was stored")
        return elapsed
    }
}

// 1b. Baseline: the same database work as head office's ingest, as hand-written SQL through
// postgres-nio with no HTTP, JSON, signing or gzip: record the nonce and lock the store row, look up
// already-stored seqs, COPY the rows, lock cards then members in one order, create new members,
// insert entries idempotently, move balances only by the rows really inserted, bump the change
// counter and versions, advance the acknowledged mark. One transaction per batch.
func rawIngest(_ client: PostgresClient, storeId: String, rows: [SyncEntry]) async throws {
    let logger = Bench.logger
    let cards = Array(Set(rows.map(\.card))).sorted()
    let last = rows.map(\.seq).max() ?? 0
    let nonce = UUID().uuidString
    try await client.withTransaction(logger: logger) { connection in
        try await connection.query(
            """
            WITH recorded AS (INSERT INTO hq_nonces (store_id, nonce, expires_at) VALUES (\(storeId), \(nonce), 0)
                              ON CONFLICT DO NOTHING RETURNING 1)
            SELECT acknowledged_seq, (SELECT COUNT(*) FROM recorded) FROM hq_stores WHERE id = \(storeId) FOR UPDATE
            """, logger: logger)
        try await connection.query(
            "SELECT seq FROM hq_entries WHERE store_id = \(storeId) AND seq = ANY(\(rows.map(\.seq))::bigint[])", logger: logger)
        try await connection.query(
            """
            SELECT pg_advisory_xact_lock(7318002, k)
            FROM (SELECT DISTINCT hashtext(c) AS k FROM UNNEST(\(cards)::text[]) AS c ORDER BY k) AS keys
            """, logger: logger)
        try await connection.query(
            "CREATE TEMP TABLE incoming (seq BIGINT, id TEXT, card TEXT, kind TEXT, points BIGINT, amount BIGINT, currency TEXT, receipt TEXT, created BIGINT) ON COMMIT DROP",
            logger: logger)
        try await connection.copyFrom(table: "incoming", logger: logger) { writer in
            var buffer = ByteBuffer()
            for entry in rows {
                buffer.writeString("\(entry.seq)\t\(entry.id)\t\(entry.card)\t\(entry.kind)\t\(entry.points)\t\(entry.amountMinor)\t\(entry.currency)\t\(entry.receipt)\t\(entry.createdAtMilliseconds)\n")
            }
            try await writer.write(buffer)
        }
        try await connection.query(
            """
            WITH new_cards AS (SELECT DISTINCT card FROM incoming i WHERE NOT EXISTS (SELECT 1 FROM hq_cards c WHERE c.card = i.card)),
            created AS (INSERT INTO hq_members (first_card, balance, lifetime_spend_minor, version, created_at_ms)
                        SELECT card, 0, 0, 0, 0 FROM new_cards ORDER BY card RETURNING id, first_card)
            INSERT INTO hq_cards (card, member_id, blocked, version) SELECT first_card, id, FALSE, 0 FROM created
            """, logger: logger)
        try await connection.query(
            """
            SELECT m.id FROM hq_members m WHERE m.id IN (SELECT member_id FROM hq_cards WHERE card = ANY(\(cards)::text[]))
            ORDER BY m.id FOR UPDATE
            """, logger: logger)
        try await connection.query(
            """
            WITH inserted AS (
                INSERT INTO hq_entries (store_id, seq, id, member_id, card, kind, points, amount_minor, currency, receipt,
                                        refers_to_seq, rule_version, reason, created_at_ms, received_at_ms)
                SELECT \(storeId), i.seq, i.id, c.member_id, i.card, i.kind, i.points, i.amount, i.currency, i.receipt,
                       NULL, 1, NULL, i.created, 0
                FROM incoming i JOIN hq_cards c ON c.card = i.card ON CONFLICT DO NOTHING
                RETURNING member_id, points, amount_minor
            )
            UPDATE hq_members m SET balance = m.balance + d.points, lifetime_spend_minor = m.lifetime_spend_minor + d.spend
            FROM (SELECT member_id, SUM(points) AS points, SUM(amount_minor) AS spend FROM inserted GROUP BY member_id) d
            WHERE m.id = d.member_id
            """, logger: logger)
        try await connection.query(
            """
            WITH version AS (UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1 RETURNING change_seq),
            members AS (
                UPDATE hq_members m SET version = (SELECT change_seq FROM version) FROM hq_cards c
                WHERE c.card = ANY(\(cards)::text[]) AND m.id = c.member_id
            ),
            cards AS (UPDATE hq_cards SET version = (SELECT change_seq FROM version) WHERE card = ANY(\(cards)::text[]) AND version = 0)
            UPDATE hq_stores SET acknowledged_seq = \(last), reported_backlog = 0, last_contact_ms = 0 WHERE id = \(storeId)
            """, logger: logger)
    }
}

try await freshDatabase("bench_raw")
let rawSeconds = try await withClient(database: "bench_raw") { client in
    let store = PostgresHeadOfficeStore(client: client, logger: logger)
    try await store.migrate()
    for index in 0..<storeCount { try await store.addStore(id: "store\(index)", secret: "secret\(index)", now: Date()) }
    let start = clock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for storeIndex in 0..<storeCount {
            group.addTask {
                for batch in 0..<batchesPerStore {
                    try await rawIngest(client, storeId: "store\(storeIndex)", rows: entries(store: storeIndex, batch: batch))
                }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = seconds(clock.now - start)
    let stored = try await store.totals().reduce(0) { $0 + $1.entries }
    precondition(stored == Int64(total), "the baseline lost entries")
    return elapsed
}
let oursRate = Double(total) / oursSeconds
let rawRate = Double(total) / rawSeconds
print(String(format: "ingest: ours (HTTP, signed, gzip, idempotent insert + balances) %.0f entries/s   raw SQL doing the same database work %.0f entries/s   ours/raw %.2f×   goal: ≥ 0.70×",
             oursRate, rawRate, oursRate / rawRate))

// 2. Catch-up: one store with many unsynced entries, one sync over loopback HTTP.
try await freshDatabase("bench_catchup")
let folder = FileManager.default.currentDirectoryPath + "/.build/benchmark-ledgers"
try? FileManager.default.removeItem(atPath: folder)
try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
let ledger = try LedgerDatabase(path: folder + "/catchup.db", creating: .init(storeId: "catchup"))
let cards = try (0..<200).map { try CardNumber("29\(String(format: "%011d", $0))") }
for card in cards { _ = try ledger.enroll(card: card, name: nil, birthday: nil) }
print("catch-up: writing \(catchUpEntries) durable awards to the store's ledger (setup, not timed)...")
let amount = Money(minorUnits: 1_999, currency: .euro)
for index in 0..<catchUpEntries {
    _ = try ledger.award(card: cards[index % cards.count], amount: amount, receipt: ReceiptReference("C\(index)"))
}
// The awards plus the enrolments, which travel in the same stream.
let unsynced = try ledger.syncPosition().backlog
let catchUpSeconds = try await withClient(database: "bench_catchup") { client in
    let store = PostgresHeadOfficeStore(client: client, logger: logger)
    try await store.migrate()
    try await store.addStore(id: "catchup", secret: "catchup-secret", now: Date())
    return try await withServer(store) { base in
        let sync = SyncClient(ledger: ledger, settings: SyncSettings(headOfficeURL: base, storeId: "catchup", secret: "catchup-secret"))
        let start = clock.now
        let report = try await sync.syncOnce()
        let elapsed = seconds(clock.now - start)
        precondition(report.backlog == 0 && report.acknowledgedSeq == unsynced, "catch-up incomplete: \(report)")
        return (elapsed, report.batches)
    }
}
// The baseline, measured: the same outbox read from the ledger and written by rawIngest in the same
// batch size, without HTTP, JSON, signing or gzip.
try await freshDatabase("bench_catchup_raw")
let rawCatchUpSeconds = try await withClient(database: "bench_catchup_raw") { client in
    let store = PostgresHeadOfficeStore(client: client, logger: logger)
    try await store.migrate()
    try await store.addStore(id: "catchup", secret: "catchup-secret", now: Date())
    let start = clock.now
    var from: Int64 = 0
    while from < unsynced {
        let page = try ledger.outbox(after: from, limit: Bench.batchSize).map { SyncEntry(outbox: $0) }
        try await rawIngest(client, storeId: "catchup", rows: page)
        from = page.last!.seq
    }
    return seconds(clock.now - start)
}
print(String(format: "catch-up: %d unsynced entries fully synced in %.2f s (%d batches; %.0f entries/s)   raw SQL path, measured: %.2f s   ours/raw %.2f×   goal: ≤ 10 s",
             Int(unsynced), catchUpSeconds.0, catchUpSeconds.1, Double(unsynced) / catchUpSeconds.0, rawCatchUpSeconds,
             catchUpSeconds.0 / rawCatchUpSeconds))

extension SyncEntry {
    init(outbox entry: OutboxEntry) {
        self.init(
            seq: entry.seq, id: entry.id, card: entry.card, kind: entry.kind, points: entry.points, amountMinor: entry.amountMinor,
            currency: entry.currency, receipt: entry.receipt, refersToSeq: entry.refersToSeq, ruleVersion: entry.ruleVersion,
            reason: entry.reason, createdAtMilliseconds: entry.createdAtMilliseconds)
    }
}
