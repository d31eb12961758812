// Head office under a fleet of tills, measured from outside (issue 21).
//
//   swift build -c release --package-path Benchmarks --product loyalty-hq  (then --product fleet-benchmark)
//   scripts/with-postgres Benchmarks/.build/release/fleet-benchmark postgres [tills=1000] [batches=2] [entries=20]
//   Benchmarks/.build/release/fleet-benchmark sqlite [tills=1000] [batches=2] [entries=20]
//   … [--tills-per-store 4]: 1,000 tills in 250 stores (each till joins head office at its first signed request)
//   … [--pull-scope store]: each till pulls the members its store served (`loyalty-hq serve --pull-scope store`)
//   … [--with-program]: a program is published (tiers, a day cap, an early-visit coupon) and the sales come
//   priced by it, so head office's reconcilers (sale prices, day cap, coupons) run at every batch; the prices
//   agree with head office's, so the balances stay the sums sent.
//
// Starts the release `loyalty-hq serve` built beside this program as its own process (PostgreSQL in a fresh
// database of $LOYALTY_TEST_POSTGRES_URL's server, or a fresh SQLite file), registers the tills, then in
// one client process:
//   1. the baseline: one till alone pushes `tills × batches` batches of `entries` entries in order, as the
//      agent does (signed, gzip'd, each batch after the previous answer), pulling after every `batches`;
//   2. the fleet: `tills` tills at once, each pushing its `batches` batches in order and then pulling, each on
//      its own keep-alive connection.
// Prints entries/s of both and their ratio, p50/p99 batch latency, head office's resident memory with every
// fleet connection open (VmRSS, and VmHWM: the peak), and checks every member's balance at head office
// against the sum of the entries sent.
import AsyncHTTPClient
import CompressNIO
import Foundation
import HeadOffice
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import PostgresNIO
import SyncProtocol

/// `--tills-per-store N`: the tills are grouped N to a store (ledgers `s0042.1` … `s0042.N`), registered as stores
/// once and joining head office at their first signed request with the secret derived from the store's, as tills do.
let tillsPerStore: Int = {
    guard let index = CommandLine.arguments.firstIndex(of: "--tills-per-store"), index + 1 < CommandLine.arguments.count,
        let count = Int(CommandLine.arguments[index + 1]), (1...999).contains(count)
    else { return 1 }
    return count
}()
/// `--pull-scope store`: head office serves each till's pull with the members its store served
/// (`loyalty-hq serve --pull-scope`); `chain` (the default) with every changed member.
let pullScope: String = {
    guard let index = CommandLine.arguments.firstIndex(of: "--pull-scope"), index + 1 < CommandLine.arguments.count,
        ["chain", "store"].contains(CommandLine.arguments[index + 1])
    else { return "chain" }
    return CommandLine.arguments[index + 1]
}()
let words = CommandLine.arguments.dropFirst().enumerated().filter { index, word in
    !["--push-only", "--with-program", "--tills-per-store", "--pull-scope"].contains(word)
        && !["--tills-per-store", "--pull-scope"].contains(CommandLine.arguments[index])
}.map(\.element)
/// Sales priced by a published program: head office prices each again, caps the day and counts visits.
let withProgram = CommandLine.arguments.contains("--with-program")
/// Diagnosis: tills push and never pull (the baseline then does not pull either).
let pushOnly = CommandLine.arguments.contains("--push-only")
let backend = words.first ?? "postgres"
let numbers = words.dropFirst().compactMap { Int($0) }
let tillCount = numbers.first ?? 1000
let batchesPerTill = numbers.dropFirst().first ?? 2
let entriesPerBatch = numbers.dropFirst(2).first ?? 20
guard ["postgres", "sqlite"].contains(backend), tillCount >= 1, batchesPerTill >= 1, (1...500).contains(entriesPerBatch) else {
    print("usage: fleet-benchmark postgres|sqlite [tills=1000] [batches=2] [entries=20 (1-500)]")
    exit(2)
}
let logger: Logger = {
    var logger = Logger(label: "fleet-benchmark")
    logger.logLevel = .error
    return logger
}()
let clock = ContinuousClock()
func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
let headOfficeBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    .deletingLastPathComponent().appendingPathComponent("loyalty-hq").path
guard FileManager.default.isExecutableFile(atPath: headOfficeBinary) else {
    print("fleet-benchmark needs the release head office beside it: swift build -c release --package-path Benchmarks --product loyalty-hq")
    exit(2)
}
let postgresURL = ProcessInfo.processInfo.environment["LOYALTY_TEST_POSTGRES_URL"]
if backend == "postgres" && postgresURL == nil {
    print("fleet-benchmark postgres needs a server: run it through scripts/with-postgres")
    exit(2)
}

// MARK: - What the tills send

/// Each till has its own 400 members and shares the chain's 2,000 regulars with every till.
func card(till: Int, seq: Int) -> String {
    let member = seq % 5 == 0 ? 900_000 + (till * 31 + seq) % 2_000 : till * 400 + (seq * 7) % 400
    return "29" + String(format: "%010d", member) + "0"
}

func batch(till: Int, tillId: String, number: Int) -> [SyncEntry] {
    (0..<entriesPerBatch).map { index in
        let seq = number * entriesPerBatch + index + 1
        var entry = SyncEntry(
            seq: Int64(seq), id: "\(tillId)-\(seq)", card: card(till: till, seq: seq), kind: "earn", points: Int64(1 + seq % 50),
            amountMinor: Int64(100 * (1 + seq % 50)), currency: "EUR", receipt: "R\(tillId)-\(seq)", refersToSeq: nil,
            ruleVersion: withProgram ? 2 : 1, reason: nil,
            createdAtMilliseconds: Int64(Date().timeIntervalSince1970 * 1000) - 60_000 + Int64(seq))
        if withProgram {
            // Priced as head office prices it: base points = amount, tier base, no birthday, no cap reached.
            entry.earningBase = entry.points
            entry.pricedTier = "base"
            entry.pricedBirthday = false
            entry.pointsBeforeCaps = entry.points
        }
        return entry
    }
}

// MARK: - Head office: storage, registration, the process

let secret = "fleet-benchmark-secret-0123456789abcdef"
let soloId = "solo"
let tillIds = (0..<tillCount).map {
    tillsPerStore == 1 ? String(format: "till-%04d", $0) : String(format: "s%04d.%d", $0 / tillsPerStore, $0 % tillsPerStore + 1)
}
/// The stores to register: each till alone, or each store of several tills once.
let registeredIds = tillsPerStore == 1 ? tillIds : Array(Set(tillIds.map { String($0.split(separator: ".")[0]) })).sorted()
/// A ledger's signing secret: a till of a store of several signs with the secret derived from the store's.
func signingSecret(_ ledger: String) -> String {
    guard let dot = ledger.lastIndex(of: "."), let till = Int(ledger[ledger.index(after: dot)...]) else { return secret }
    return RequestSigning.tillSecret(storeSecret: secret, till: till)
}
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fleet-benchmark-\(getpid())")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: folder) }
let databaseName = "bench_fleet"

func withPostgresStore<T>(database: String?, _ body: (PostgresHeadOfficeStore, PostgresClient) async throws -> T) async throws -> T {
    var configuration = try PostgresHeadOfficeStore.configuration(url: postgresURL!)
    if let database { configuration.database = database }
    let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        return try await body(PostgresHeadOfficeStore(client: client, logger: logger), client)
    }
}

func withStore<T>(_ body: (any HeadOfficeStore) async throws -> T) async throws -> T {
    if backend == "postgres" {
        return try await withPostgresStore(database: databaseName) { store, _ in try await body(store) }
    }
    return try await body(try SQLiteHeadOfficeStore(path: folder.appendingPathComponent("hq.db").path))
}

var serveArguments = ["serve", "--host", "127.0.0.1", "--port", "0"]
if backend == "postgres" {
    try await withPostgresStore(database: nil) { _, client in
        try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(databaseName) WITH (FORCE)"), logger: logger)
        try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(databaseName)"), logger: logger)
    }
} else {
    serveArguments += ["--db", folder.appendingPathComponent("hq.db").path]
}
let setupStart = clock.now
try await withStore { store in
    try await store.migrate()
    for id in [soloId] + registeredIds { try await store.addStore(id: id, secret: secret, now: Date()) }
    if withProgram {
        let program = try ProgramFile.parse(
            """
            valid_from: 2020-01-01T00:00:00Z
            earning: {points_per_unit: 1, rounding: down, per_member_day_cap_points: 1000000, time_zone: Europe/Berlin}
            tiers:
              - {name: base, min_rolling_spend: "0", earn_multiplier_percent: 100}
              - {name: silver, min_rolling_spend: "1000000.00", earn_multiplier_percent: 125}
            redemption: {point_value_minor: 1, minimum_points: 1, step_points: 1}
            coupons:
              - {name: come_back, when: {visits: 3, within_days: 14}, discount: "5.00"}
            """)
        _ = try await store.publishProgram(program, actor: "fleet-benchmark", now: Date())
    }
}
print("fleet-benchmark: \(backend), \(tillCount) tills" + (tillsPerStore > 1 ? " in \(registeredIds.count) stores" : "")
    + " × \(batchesPerTill) batches × \(entriesPerBatch) entries" + (withProgram ? ", priced by a published program" : "")
    + (pushOnly ? ", push only" : ", pulls of the \(pullScope)'s members")
    + String(format: " (registered in %.1f s)", seconds(clock.now - setupStart)))

// Every connection of the fleet comes from this one address: the per-client limit is raised, as behind a proxy.
let server = Process()
server.executableURL = URL(fileURLWithPath: headOfficeBinary)
server.arguments = serveArguments + [
    "--max-connections", String(tillCount + 1_000), "--max-connections-per-client", String(tillCount + 1_000),
    "--pull-scope", pullScope,
]
if backend == "postgres" {
    // The URL (a password in it) goes by the environment, not argv.
    var components = URLComponents(string: postgresURL!)!
    components.path = "/" + databaseName
    server.environment = ProcessInfo.processInfo.environment.merging(["LOYALTY_HQ_POSTGRES": components.string!]) { $1 }
}
let serverOutput = Pipe()
server.standardOutput = serverOutput
// Diagnosis: FLEET_SERVER_LOG=PATH keeps head office's log lines.
if let path = ProcessInfo.processInfo.environment["FLEET_SERVER_LOG"], FileManager.default.createFile(atPath: path, contents: nil) {
    server.standardError = FileHandle(forWritingAtPath: path)
} else {
    server.standardError = serverOutput
}
try server.run()
defer { server.terminate() }
/// The port `serve` prints when it listens ("listening on http://127.0.0.1:PORT").
let port: Int = try {
    var seen = ""
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline {
        let data = serverOutput.fileHandleForReading.availableData
        if data.isEmpty { break }
        seen += String(decoding: data, as: UTF8.self)
        if let range = seen.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
            return Int(seen[range].split(separator: ":").last!)!
        }
    }
    throw NSError(domain: "fleet-benchmark", code: 1, userInfo: [NSLocalizedDescriptionKey: "loyalty-hq did not start: \(seen)"])
}()
// Keep draining the server's output so it never blocks on a full pipe.
Thread.detachNewThread { while !serverOutput.fileHandleForReading.availableData.isEmpty {} }
let base = "http://127.0.0.1:\(port)"

/// Resident memory of head office's process, in MiB: (now, peak).
func headOfficeMemory() -> (rss: Double, peak: Double) {
    let status = (try? String(contentsOfFile: "/proc/\(server.processIdentifier)/status", encoding: .utf8)) ?? ""
    func field(_ name: String) -> Double {
        let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") } ?? ""
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }
    return (field("VmRSS"), field("VmHWM"))
}

// MARK: - The agent's two requests

var configuration = HTTPClient.Configuration()
configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = tillCount + 8
configuration.connectionPool.idleTimeout = .seconds(600)
configuration.timeout.connect = .seconds(60)
let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)

func signedRequest(_ method: HTTPMethod, tillId: String, path: String, body: ByteBuffer?) -> HTTPClientRequest {
    var request = HTTPClientRequest(url: base + path)
    request.method = method
    let bytes = body.map { Array($0.readableBytesView) } ?? []
    for (name, value) in RequestSigning.headers(storeId: tillId, secret: signingSecret(tillId), method: method.rawValue, path: path, body: bytes) {
        request.headers.add(name: name, value: value)
    }
    if let body {
        request.headers.add(name: "Content-Encoding", value: "gzip")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(body)
    }
    return request
}

/// Pushes one batch and waits for head office's mark, as the agent does. Returns the latency in seconds.
func push(tillId: String, body: ByteBuffer, lastSeq: Int64) async throws -> Double {
    let path = "/v1/stores/\(tillId)/batches"
    let start = clock.now
    let response = try await http.execute(signedRequest(.POST, tillId: tillId, path: path, body: body), timeout: .seconds(300))
    let answer = try await response.body.collect(upTo: 1 << 20)
    let elapsed = seconds(clock.now - start)
    guard response.status == .ok, let result = try? JSONDecoder().decode(PushResult.self, from: answer),
        result.acknowledgedSeq == lastSeq
    else { fatalError("push of \(tillId) failed: \(response.status) \(String(buffer: answer))") }
    return elapsed
}

/// Pulls every page of changes since `cursor`, as the agent does; returns the new cursor, the members
/// received and the time taken in seconds.
func pull(tillId: String, cursor: Int64, acknowledged: Int64) async throws -> (cursor: Int64, members: Int, seconds: Double) {
    var cursor = cursor
    var members = 0
    let start = clock.now
    for _ in 0..<1_000 {
        let path = "/v1/stores/\(tillId)/updates?since=\(cursor)&acknowledged=\(acknowledged)"
        let response = try await http.execute(signedRequest(.GET, tillId: tillId, path: path, body: nil), timeout: .seconds(300))
        let answer = try await response.body.collect(upTo: 64 << 20)
        // Only what the loop needs: decoding every member here would spend the cores head office is measured on.
        struct PageMark: Decodable { var cursor: Int64; var more: Bool; var members: [Skipped] }
        struct Skipped: Decodable {}
        guard response.status == .ok, let page = try? JSONDecoder().decode(PageMark.self, from: answer) else {
            fatalError("pull of \(tillId) failed: \(response.status) \(String(buffer: answer).prefix(300))")
        }
        cursor = page.cursor
        members += page.members.count
        if !page.more { break }
    }
    return (cursor, members, seconds(clock.now - start))
}

func gzipped(_ entries: [SyncEntry]) throws -> ByteBuffer {
    var plain = ByteBuffer(bytes: try JSONEncoder().encode(PushBatch(entries: entries, backlog: 0, ledgerId: nil)))
    return try plain.compress(with: .gzip)
}

// Every body is built before the clock starts: this measures head office. Each till pulls once first (a
// till in service has a cursor); the run's pulls then bring what changed during the run.
var sent: [String: Int64] = [:]
var fleetBodies: [[ByteBuffer]] = []
for (index, id) in tillIds.enumerated() {
    fleetBodies.append(try (0..<batchesPerTill).map { number in
        let entries = batch(till: index, tillId: id, number: number)
        for entry in entries { sent[entry.card, default: 0] += entry.points }
        return try gzipped(entries)
    })
}
let soloBodies: [ByteBuffer] = try (0..<(tillCount * batchesPerTill)).map { number in
    let entries = batch(till: tillCount + number / batchesPerTill, tillId: soloId, number: number)
    for entry in entries { sent[entry.card, default: 0] += entry.points }
    return try gzipped(entries)
}
let startCursor = try await pull(tillId: soloId, cursor: 0, acknowledged: 0).cursor

// 1. One till alone.
var soloLatencies: [Double] = []
var soloPulls: [(members: Int, seconds: Double)] = []
let soloStart = clock.now
var soloCursor = startCursor
for (number, body) in soloBodies.enumerated() {
    soloLatencies.append(try await push(tillId: soloId, body: body, lastSeq: Int64((number + 1) * entriesPerBatch)))
    if (number + 1) % batchesPerTill == 0 && !pushOnly {
        let pulled = try await pull(tillId: soloId, cursor: soloCursor, acknowledged: Int64((number + 1) * entriesPerBatch))
        soloCursor = pulled.cursor
        soloPulls.append((pulled.members, pulled.seconds))
    }
}
let soloSeconds = seconds(clock.now - soloStart)

// 2. The fleet, every till at once on its own connection; memory is read while every connection is open.
let fleetCursor = try await pull(tillId: tillIds[0], cursor: 0, acknowledged: 0).cursor
let fleetStart = clock.now
let (fleetLatencies, fleetPulls, memoryDuringFleet) = try await withThrowingTaskGroup(
    of: ([Double], (members: Int, seconds: Double)?).self
) { group in
    for (index, id) in tillIds.enumerated() {
        let bodies = fleetBodies[index]
        group.addTask {
            var latencies: [Double] = []
            for (number, body) in bodies.enumerated() {
                latencies.append(try await push(tillId: id, body: body, lastSeq: Int64((number + 1) * entriesPerBatch)))
            }
            if pushOnly { return (latencies, nil) }
            let pulled = try await pull(tillId: id, cursor: fleetCursor, acknowledged: Int64(bodies.count * entriesPerBatch))
            return (latencies, (pulled.members, pulled.seconds))
        }
    }
    var all: [Double] = []
    var pulls: [(members: Int, seconds: Double)] = []
    var peak = (rss: 0.0, peak: 0.0)
    for try await (latencies, pulled) in group {
        all += latencies
        if let pulled { pulls.append(pulled) }
        let now = headOfficeMemory()
        peak = (max(peak.rss, now.rss), now.peak)
    }
    return (all, pulls, peak)
}
let fleetSeconds = seconds(clock.now - fleetStart)
let memoryAfter = headOfficeMemory()

// Every member's balance at head office equals the sum of the entries sent for their card.
var wrong = 0
try await withStore { store in
    for (card, points) in sent where try await store.member(card: card, now: Date())?.balance != points { wrong += 1 }
}

func percentile(_ values: [Double], _ fraction: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
}
let total = Double(tillCount * batchesPerTill * entriesPerBatch)
let soloRate = total / soloSeconds
let fleetRate = total / fleetSeconds
print(String(format: "one till alone: %.0f entries/s (%.1f s)   batch p50 %.1f ms  p99 %.1f ms",
    soloRate, soloSeconds, 1000 * percentile(soloLatencies, 0.5), 1000 * percentile(soloLatencies, 0.99)))
print(String(format: "fleet of %d:    %.0f entries/s (%.1f s)   batch p50 %.1f ms  p99 %.1f ms",
    tillCount, fleetRate, fleetSeconds, 1000 * percentile(fleetLatencies, 0.5), 1000 * percentile(fleetLatencies, 0.99)))
func describe(_ pulls: [(members: Int, seconds: Double)]) -> String {
    guard !pulls.isEmpty else { return "no pulls" }
    let members = pulls.map(\.members).reduce(0, +) / pulls.count
    return String(format: "%d pulls, %d members each on average, p50 %.1f ms  p99 %.1f ms", pulls.count, members,
        1000 * percentile(pulls.map(\.seconds), 0.5), 1000 * percentile(pulls.map(\.seconds), 0.99))
}
print("  pulls, one till: \(describe(soloPulls))")
print("  pulls, fleet:    \(describe(fleetPulls))")
print(String(format: "fleet/one till: %.2f×   goal: ≥ 0.90×", fleetRate / soloRate))
print(String(format: "head office memory with %d connections open: %.0f MiB resident (peak %.0f MiB)   goal: ≤ 256 MiB",
    tillCount, memoryDuringFleet.rss, memoryAfter.peak))
print("balances: \(sent.count - wrong) of \(sent.count) members exact" + (wrong == 0 ? "" : "   WRONG: \(wrong)"))
try await http.shutdown()
server.terminate()
if wrong > 0 { exit(1) }
