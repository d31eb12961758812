import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import LoyaltyCore
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import PostgresNIO
import SyncProtocol
import TestSupport
import Testing

@testable import HeadOffice

/// Both head-office storage drivers; every store test runs against each.
enum Driver: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres
    var testDescription: String { rawValue }
}

enum Harness {
    static var logger: Logger {
        var logger = Logger(label: "tests")
        logger.logLevel = .critical
        return logger
    }

    /// A fresh, migrated head-office store of `driver`, removed afterwards. PostgreSQL comes from
    /// $LOYALTY_TEST_POSTGRES_URL (scripts/test starts a private server); without it the test fails.
    /// - Parameter postgresSchemaVersion: PostgreSQL migrated only this far (an upgrade test).
    static func withStore<T: Sendable>(
        _ driver: Driver, postgresSchemaVersion: Int = Int.max, _ body: (any HeadOfficeStore) async throws -> T
    ) async throws -> T {
        switch driver {
        case .sqlite:
            let folder = TemporaryFolder()
            let store = try SQLiteHeadOfficeStore(path: folder.file("hq.db"))
            try await store.migrate()
            let result = try await body(store)
            withExtendedLifetime(folder) {}
            return result
        case .postgres:
            let url = try #require(
                ProcessInfo.processInfo.environment["LOYALTY_TEST_POSTGRES_URL"],
                "PostgreSQL tests need LOYALTY_TEST_POSTGRES_URL: run them through scripts/test (or scripts/with-postgres swift test)"
            )
            let database = "hq_test_" + UUID().uuidString.prefix(8).lowercased()
            try await withPostgres(url) { client in
                try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(database)"), logger: logger)
            }
            let result: T = try await withServer(database: database) { store in
                try await store.migrate(throughVersion: postgresSchemaVersion)
                return try await body(store)
            }
            try? await withPostgres(url) { client in
                try await client.query(
                    PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(database) WITH (FORCE)"), logger: logger)
            }
            return result
        }
    }

    /// A head office on its own client to `database` of the test server (as `username` when given): its connections
    /// start with that database's and role's settings, as another server process's would.
    static func withServer<T: Sendable>(
        database: String, username: String? = nil, _ body: (PostgresHeadOfficeStore) async throws -> T
    ) async throws -> T {
        let url = try #require(ProcessInfo.processInfo.environment["LOYALTY_TEST_POSTGRES_URL"])
        var configuration = try PostgresHeadOfficeStore.configuration(url: url)
        configuration.database = database
        if let username { configuration.username = username }
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(PostgresHeadOfficeStore(client: client, logger: logger))
        }
    }

    static func withPostgres(_ url: String, _ body: (PostgresClient) async throws -> Void) async throws {
        let client = PostgresClient(
            configuration: try PostgresHeadOfficeStore.configuration(url: url), backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await body(client)
        }
    }

    /// A head office on `driver` serving on loopback, `program` published, and one till per store id (each store's
    /// secret `s` + its id), each synced once: the setup of most tests with several stores.
    static func withTills(
        _ driver: Driver, _ storeIds: [String], program: ProgramDefinition? = nil,
        _ body: (any HeadOfficeStore, [AgentSyncTests.Till]) async throws -> Void
    ) async throws {
        try await withStore(driver) { store in
            for id in storeIds { try await store.addStore(id: id, secret: "s\(id)", now: Date()) }
            if let program { _ = try await store.publishProgram(program, actor: "test", now: Date()) }
            try await withServer(store) { base in
                let tills = try storeIds.map { try AgentSyncTests.Till($0, secret: "s\($0)", base: base) }
                for till in tills { _ = try await till.client.syncOnce() }
                try await body(store, tills)
            }
        }
    }

    /// The head-office HTTP API on a free loopback port, for the duration of `body`.
    static func withServer<T: Sendable>(
        _ store: any HeadOfficeStore, clock: @escaping @Sendable () -> Date = { Date() },
        _ body: (URL) async throws -> T
    ) async throws -> T {
        try await withRouter(HeadOfficeAPI(store: store, clock: clock).router(), body)
    }

    /// `router` served on a free loopback port, for the duration of `body`.
    static func withRouter<T: Sendable>(
        _ router: Router<BasicRequestContext>, _ body: (URL) async throws -> T
    ) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            defer { group.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            return try await body(URL(string: "http://127.0.0.1:\(port)")!)
        }
    }

    /// An entry as a store would send it.
    /// `entries` as one till writes them: in time order, numbered from 1 (a till's clock does not run back
    /// within its sequence; head office counts an entry dated before the one before it from that one).
    static func inSequenceOrder(_ entries: [SyncEntry]) -> [SyncEntry] {
        entries.enumerated().sorted {
            ($0.element.createdAtMilliseconds, $0.offset) < ($1.element.createdAtMilliseconds, $1.offset)
        }
        .enumerated().map { index, element in
            var entry = element.element
            entry.seq = Int64(index + 1)
            return entry
        }
    }

    static func entry(
        _ seq: Int64, card: String = "2900000777774", kind: String = "earn", points: Int64 = 10, amount: Int64? = nil,
        at: Int64 = 1_795_340_000_000
    ) -> SyncEntry {
        SyncEntry(
            seq: seq, id: "id:\(seq):\(card)", card: card, kind: kind, points: points,
            amountMinor: amount ?? (kind == "earn" ? points * 100 : 0), currency: "EUR", receipt: "R\(seq)",
            refersToSeq: nil, ruleVersion: 1, reason: nil, createdAtMilliseconds: at)
    }

    /// A raw signed request (or a deliberately broken one).
    static func request(
        _ base: URL, method: HTTPMethod, path: String, body: Data = Data(), storeId: String, secret: String,
        headerStore: String? = nil, timestamp: Date = Date(), nonce: String = UUID().uuidString, sign: Bool = true,
        extraHeaders: [(String, String)] = []
    ) async throws -> (status: Int, body: [String: Any]) {
        var request = HTTPClientRequest(url: base.absoluteString + path)
        request.method = method
        let seconds = Int64(timestamp.timeIntervalSince1970)
        if sign {
            request.headers.add(name: RequestSigning.storeHeader, value: headerStore ?? storeId)
            request.headers.add(name: RequestSigning.timestampHeader, value: String(seconds))
            request.headers.add(name: RequestSigning.nonceHeader, value: nonce)
            request.headers.add(
                name: RequestSigning.signatureHeader,
                value: RequestSigning.signature(
                    secret: secret, method: method.rawValue, path: path, body: body, timestamp: seconds, nonce: nonce))
        }
        for (name, value) in extraHeaders { request.headers.add(name: name, value: value) }
        if method == .POST { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
        let data = Data(buffer: try await response.body.collect(upTo: 16 << 20))
        return (Int(response.status.code), (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    static func json(_ value: some Encodable) -> Data { try! JSONEncoder().encode(value) }
}
