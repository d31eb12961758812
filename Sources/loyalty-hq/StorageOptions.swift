import ArgumentParser
import CommandLineOutput
import Foundation
import LoyaltyCore
import HeadOffice
import Logging
import PostgresNIO
import Synchronization

/// `--db PATH` (SQLite, the default) or `--postgres URL`, plus `--json`.
struct StorageOptions: ParsableArguments {
    @Option(help: ArgumentHelp("SQLite database (default: $LOYALTY_HQ_DB, else /var/lib/loyalty-hq/hq.db when writable, else ~/.local/share/loyalty-hq/hq.db).", valueName: "path"))
    var db: String?
    @Option(help: ArgumentHelp("PostgreSQL instead of SQLite: postgres://user:password@host:5432/database (default: $LOYALTY_HQ_POSTGRES).", valueName: "url"))
    var postgres: String?
    @Option(help: ArgumentHelp(
        "A streaming replica of the PostgreSQL database: reports and the dashboard read there and say how far it "
            + "lags (default: $LOYALTY_HQ_POSTGRES_REPLICA, else the URL in hq.yaml's storage.replica_url_file).",
        valueName: "url"))
    var postgresReplica: String?
    @Flag(help: "Print exactly one JSON object.") var json = false
    @Option(help: ArgumentHelp(
        "Head office's configuration file (default: $LOYALTY_HQ_CONFIG, else /etc/loyalty-hq/hq.yaml if it exists).",
        valueName: "path"))
    var config: String?

    /// `--db`, else `$LOYALTY_HQ_DB`, else hq.yaml's `storage.db`, else the system or the user's folder.
    var sqlitePath: String {
        let environment = ProcessInfo.processInfo.environment
        if let path = HQConfigFile.text("storage.db", flag: db.flatMap { $0.isEmpty ? nil : $0 }) { return path }
        if access("/var/lib/loyalty-hq", W_OK) == 0 { return "/var/lib/loyalty-hq/hq.db" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.local/share/loyalty-hq/hq.db"
    }

    /// `--postgres`, else `$LOYALTY_HQ_POSTGRES`, else the URL in the file `storage.postgres_url_file`
    /// names (hq.yaml or `$LOYALTY_HQ_POSTGRES_URL_FILE`; it holds a password: not readable by others);
    /// nil (SQLite) when `--db` is given or none is set.
    var postgresURL: String? {
        get throws {
            if let postgres, !postgres.isEmpty { return postgres }
            if db != nil { return nil }
            if let url = ProcessInfo.processInfo.environment["LOYALTY_HQ_POSTGRES"], !url.isEmpty { return url }
            guard let path = HQConfigFile.text("storage.postgres_url_file", flag: nil) else { return nil }
            return try Self.urlFromPrivateFile(path, key: "storage.postgres_url_file")
        }
    }

    /// `--postgres-replica`, else `$LOYALTY_HQ_POSTGRES_REPLICA`, else the URL in the file
    /// `storage.replica_url_file` names (not readable by others); nil: reports read the primary.
    var replicaURL: String? {
        get throws {
            if let postgresReplica, !postgresReplica.isEmpty { return postgresReplica }
            if let url = ProcessInfo.processInfo.environment["LOYALTY_HQ_POSTGRES_REPLICA"], !url.isEmpty { return url }
            guard let path = HQConfigFile.text("storage.replica_url_file", flag: nil) else { return nil }
            return try Self.urlFromPrivateFile(path, key: "storage.replica_url_file")
        }
    }

    /// The postgres:// URL a file holds; refused when others may read the file (it holds a password).
    static func urlFromPrivateFile(_ path: String, key: String) throws -> String {
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path  // what others could read
        if let mode = (try? FileManager.default.attributesOfItem(atPath: target))?[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw CommandFailure(
                code: "bad_config", message: "\(key) \(target) is readable by others (mode \(String(mode, radix: 8))): chmod 600 it",
                exitCode: 2)
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            case let url = text.trimmingCharacters(in: .whitespacesAndNewlines), url.hasPrefix("postgres")
        else {
            throw CommandFailure(code: "bad_config", message: "\(key) \(path) cannot be read or holds no postgres:// URL", exitCode: 2)
        }
        return url
    }

    /// Runs `body` on the store reports read: the replica when one is configured (checked to be a standby
    /// of this head office's database, never migrated; its lag is kept for ``ReplicaNote``), else the store.
    func withReportStore<T: Sendable>(_ body: @Sendable (any HeadOfficeStore) async throws -> T) async throws -> T {
        guard let url = try replicaURL else { return try await withStore { store, _ in try await body(store) } }
        return try await Self.withPostgres(
            url: url, named: "the PostgreSQL replica",
            settings: "--postgres-replica, $LOYALTY_HQ_POSTGRES_REPLICA or storage.replica_url_file",
            firstAnswer: { store in
                let lag = try await store.replicaLag()
                ReplicaNote.lag.withLock { $0 = lag }
            }
        ) { store, _ in try await body(store) }
    }

    /// Runs a PostgreSQL client for `url` for the duration of `body`. The pool waits for a server for ever:
    /// `firstAnswer` (migrating, or checking a replica) must come within ``postgresAnswerSeconds``, else the
    /// command stops and says which server (`named`) and which settings (`settings`) to check.
    private static func withPostgres<T: Sendable>(
        url: String, named: String, settings: String,
        firstAnswer: @Sendable (PostgresHeadOfficeStore) async throws -> Void,
        _ body: @Sendable (PostgresHeadOfficeStore, PostgresClient) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "loyalty-hq")
        logger.logLevel = .warning
        // The pool's only warning is that a query came before `run()` began, which is a race with the task
        // below that the pool waits out; printed, it looked like a fault on every command's stderr.
        var poolLogger = logger
        poolLogger.logLevel = .error
        let client = PostgresClient(
            configuration: try PostgresHeadOfficeStore.configuration(url: url), backgroundLogger: poolLogger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let store = PostgresHeadOfficeStore(client: client, logger: logger)
            let watchdog = Task {
                try await Task.sleep(for: .seconds(postgresAnswerSeconds))
                HQEntryPoint.fail(
                    CommandFailure(
                        code: "storage_failure",
                        message: "\(named) (\(redacted(url))) did not answer within \(postgresAnswerSeconds) s: "
                            + "check that it runs and the URL (\(settings))",
                        exitCode: 3))
            }
            // A server that answers with a refusal says why at once, instead of the watchdog's guess.
            let startUpCheck = Task {
                guard let refusal = await PostgresStartUpCheck.refusal(url: url) else { return }
                HQEntryPoint.fail(
                    CommandFailure(
                        code: "storage_failure",
                        message: "\(named) (\(redacted(url))) refused the connection: \(refusal): check the URL "
                            + "(\(settings))",
                        exitCode: 3))
            }
            try await firstAnswer(store)
            watchdog.cancel()
            startUpCheck.cancel()
            try await adoptChainTimeZone(of: store)
            return try await body(store, client)
        }
    }

    /// How long a command waits for PostgreSQL's first answer.
    static let postgresAnswerSeconds = 15

    var storageDescription: String {
        get throws { try postgresURL.map { "postgresql \(Self.redacted($0))" } ?? "sqlite \(sqlitePath)" }
    }

    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }

    /// Opens the store (running the PostgreSQL client for the duration), migrates it, runs `body`.
    func withStore<T: Sendable>(_ body: @Sendable (any HeadOfficeStore, PostgresClient?) async throws -> T) async throws -> T {
        if let url = try postgresURL {
            return try await Self.withPostgres(
                url: url, named: "PostgreSQL", settings: "--postgres, $LOYALTY_HQ_POSTGRES or storage.postgres_url_file",
                firstAnswer: { try await $0.migrate() }
            ) { store, client in try await body(store, client) }
        }
        let store = try SQLiteHeadOfficeStore(path: sqlitePath)
        try await store.migrate()
        try await Self.adoptChainTimeZone(of: store)
        return try await body(store, nil)
    }

    private static func adoptChainTimeZone(of store: any HeadOfficeStore) async throws {
        let zone = try await store.chainTimeZone()
        Output.chainTimeZone.withLock { $0 = zone }
    }
}

/// Where a report's figures came from when they were read from the replica, for the report to say.
enum ReplicaNote {
    /// The replica's lag when this command read from it (nil: it read the primary).
    static let lag = Mutex<ReplicaLag?>(nil)

    /// `json` (one object) with `read_from_replica` beside its fields when the report was read there.
    static func annotated(_ json: String) -> String {
        guard let lag = lag.withLock({ $0 }),
            var object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any],
            let data = try? JSONSerialization.data(withJSONObject: ["seconds_behind": lag.secondsBehind, "streaming": lag.streaming])
        else { return json }
        object["read_from_replica"] = try? JSONSerialization.jsonObject(with: data)
        guard let annotated = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return json }
        return String(decoding: annotated, as: UTF8.self)
    }

    /// Prints the note above a table for a person (on stderr beside CSV, which stays one table).
    static func printBefore(csv: Bool) {
        guard let lag = lag.withLock({ $0 }) else { return }
        if csv { Output.err(lag.text) } else { Output.out(lag.text) }
    }
}

/// Prints results and errors the same way as the agent.
enum Output {
    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { shortenFractions(String(decoding: $0, as: UTF8.self)) } ?? "{}"
    }

    /// Model outputs (probabilities, expected sales) to 9 significant digits: a 16-digit fraction could
    /// look like a bank card number to the redactor, and no one needs more digits than the fit has.
    static func shortenFractions(_ json: String) -> String {
        guard let pattern = try? Regex(#"-?[0-9]+\.[0-9]{10,}(e[-+]?[0-9]+)?"#) else { return json }
        return json.replacing(pattern) { match in
            Double(json[match.range]).map { String(format: "%.9g", $0) } ?? String(json[match.range])
        }
    }

    /// A model figure for a person or a checker: 9 significant digits.
    static func figure(_ value: Double) -> String { String(format: "%.9g", value) }

    /// Everything printed passes through the payment-card redactor (errors may repeat user input).
    static func out(_ text: String) { Printer.out(text) }

    static func err(_ text: String) { Printer.err(text) }

    static func iso(_ milliseconds: Int64?) -> String {
        guard let milliseconds else { return "never" }
        return ChainTime.text(milliseconds: milliseconds, timeZone: chainTimeZone.withLock { $0 })
    }

    /// The chain's time zone every time is shown in, read from the store when a command opens it.
    static let chainTimeZone = Mutex("UTC")
}

/// A refusal or bad input with the agent's exit codes.
struct CommandFailure: Error {
    var code: String
    var message: String
    var exitCode: Int32
}

/// `base` in JSON with, beside its `…_milliseconds` fields, the same instants as people read them
/// (``Output/iso(_:)``: the chain's zone, to the second) under the names in `times`.
struct WithTimes<Base: Encodable>: Encodable {
    var base: Base
    var times: [String: Int64?]

    init(_ base: Base, _ times: [String: Int64?]) {
        self.base = base
        self.times = times
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        try base.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        for (name, milliseconds) in times {
            if let milliseconds { try container.encode(Output.iso(milliseconds), forKey: Key(stringValue: name)) }
        }
    }
}
