// Head-office ingest over HTTP vs a raw PostgreSQL baseline, and a 50,000-entry catch-up.
//
//   scripts/with-postgres swift run -c release --package-path Benchmarks sync-benchmark [stores=4] [batches=20] [catchup=50000]
//
// 1. Ingest: `stores` concurrent stores each POST `batches` signed, gzip'd 500-entry batches to an
//    in-process loyalty-hq on PostgreSQL (idempotent insert + member balances), vs the same rows
//    through postgres-nio without HTTP: COPY into a temp table, INSERT ... ON CONFLICT DO NOTHING,
//    balance upsert, one transaction per batch, same concurrency.
// 2. Catch-up: one store whose ledger holds `catchup` unsynced entries runs one SyncClient sync.
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

// 1b. Baseline: COPY + INSERT ... ON CONFLICT + balance upsert through postgres-nio, no HTTP.
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
                    let rows = entries(store: storeIndex, batch: batch)
                    try await client.withTransaction(logger: logger) { connection in
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
                                        SELECT card, 0, 0, 1, 0 FROM new_cards RETURNING id, first_card)
                            INSERT INTO hq_cards (card, member_id, blocked, version) SELECT first_card, id, FALSE, 1 FROM created ON CONFLICT DO NOTHING
                            """, logger: logger)
                        try await connection.query(
                            """
                            INSERT INTO hq_entries (store_id, seq, id, member_id, card, kind, points, amount_minor, currency, receipt,
                                                    refers_to_seq, rule_version, reason, created_at_ms, received_at_ms)
                            SELECT \("store\(storeIndex)"), i.seq, i.id, c.member_id, i.card, i.kind, i.points, i.amount, i.currency, i.receipt,
                                   NULL, 1, NULL, i.created, 0
                            FROM incoming i JOIN hq_cards c ON c.card = i.card ON CONFLICT DO NOTHING
                            """, logger: logger)
                        try await connection.query(
                            """
                            UPDATE hq_members m SET balance = m.balance + d.points FROM
                              (SELECT c.member_id, SUM(i.points) AS points FROM incoming i JOIN hq_cards c ON c.card = i.card GROUP BY c.member_id) d
                            WHERE m.id = d.member_id
                            """, logger: logger)
                    }
                }
            }
        }
        try await group.waitForAll()
    }
    return seconds(clock.now - start)
}
let oursRate = Double(total) / oursSeconds
let rawRate = Double(total) / rawSeconds
print(String(format: "ingest: ours (HTTP, signed, gzip, idempotent insert + balances) %.0f entries/s   raw COPY + ON CONFLICT + upsert %.0f entries/s   ours/raw %.2f×   goal: ≥ 0.70×",
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
try await withClient(database: "bench_catchup") { client in
    let store = PostgresHeadOfficeStore(client: client, logger: logger)
    try await store.migrate()
    try await store.addStore(id: "catchup", secret: "catchup-secret", now: Date())
    try await withServer(store) { base in
        let sync = SyncClient(ledger: ledger, settings: SyncSettings(headOfficeURL: base, storeId: "catchup", secret: "catchup-secret"))
        let start = clock.now
        let report = try await sync.syncOnce()
        let elapsed = seconds(clock.now - start)
        precondition(report.backlog == 0 && report.acknowledgedSeq == Int64(catchUpEntries), "catch-up incomplete: \(report)")
        print(String(format: "catch-up: %d unsynced entries fully synced in %.2f s (%d batches; %.0f entries/s)   raw-path estimate %.2f s   goal: ≤ 10 s",
                     catchUpEntries, elapsed, report.batches, Double(catchUpEntries) / elapsed, Double(catchUpEntries) / rawRate))
    }
}
