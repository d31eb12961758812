import ConfigurationFile
import Foundation
import LoyaltyCore
import Synchronization

/// Head office's configuration file, `/etc/loyalty-hq/hq.yaml` (or `--config PATH`, `$LOYALTY_HQ_CONFIG`).
/// A flag overrides its environment variable, which overrides the file.
///
/// ```yaml
/// listen: 127.0.0.1:8080
/// storage:
///   db: /var/lib/loyalty-hq/hq.db              # SQLite (the default), or:
///   postgres_url_file: /etc/loyalty-hq/postgres-url
///   replica_url_file: /etc/loyalty-hq/replica-url   # a streaming replica: reports and the dashboard read there
/// dashboard:
///   password_file: /etc/loyalty-hq/dashboard-password
/// tls:
///   certificate: /etc/loyalty-hq/tls/chain.pem
///   key: /etc/loyalty-hq/tls/key.pem
/// sync:
///   pull_scope: store        # each store pulls the members it has served (chain: every member; the default)
/// limits:
///   max_connections: 4096
///   max_connections_per_client: 512
///   request_timeout_seconds: 30
///   max_header_bytes: 16384
///   credential_cache_seconds: 10
/// ```
struct HQConfigFile: Sendable {
    static let defaultPath = "/etc/loyalty-hq/hq.yaml"
    /// Every key, the kind of value it takes and, for numbers, the range `serve` accepts.
    static let keys: [String: ConfigurationFile.ValueKind] = [
        "listen": .address, "storage.db": .text, "storage.postgres_url_file": .text, "storage.replica_url_file": .text,
        "dashboard.password_file": .text,
        "tls.certificate": .text, "tls.key": .text, "limits.max_connections": .wholeNumber(1...1_000_000),
        "limits.max_connections_per_client": .wholeNumber(1...1_000_000),
        "limits.request_timeout_seconds": .wholeNumber(1...3600),
        "limits.max_header_bytes": .wholeNumber(1024...1_048_576),
        "limits.credential_cache_seconds": .wholeNumber(0...3600),
        "sync.pull_scope": .choice(["chain", "store"]),
    ]
    /// The environment variable of each key: `LOYALTY_HQ_` and the key in capitals (`.` → `_`), but for
    /// the storage keys, which keep their earlier names.
    static func environmentVariable(_ key: String) -> String {
        switch key {
        case "storage.db": "LOYALTY_HQ_DB"
        case "storage.postgres_url_file": "LOYALTY_HQ_POSTGRES_URL_FILE"
        default: "LOYALTY_HQ_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
        }
    }

    let file: ConfigurationFile

    /// The configuration every command reads; set once by the entry point before commands run.
    static let current = Mutex(HQConfigFile(file: .empty))

    static func load(arguments: [String], environment: [String: String]) async throws(LoyaltyError) -> HQConfigFile {
        let explicit = ConfigurationFile.explicitPath(
            arguments: arguments, environment: environment, variable: "LOYALTY_HQ_CONFIG")
        let file = try await ConfigurationFile.load(explicitPath: explicit, defaultPath: defaultPath, keys: keys)
        try ConfigurationFile.checkEnvironment(environment, keys: keys, variable: environmentVariable)
        return HQConfigFile(file: file)
    }

    /// `flag` if given, else the key's environment variable, else the file's value.
    static func text(_ key: String, flag: String?) -> String? {
        if case .wholeNumber = keys[key] { preconditionFailure("\(key) is a number key of hq.yaml") }
        precondition(keys[key] != nil, "\(key) is a key of hq.yaml")
        if let flag { return flag }
        if let value = ProcessInfo.processInfo.environment[environmentVariable(key)], !value.isEmpty { return value }
        return current.withLock { $0.file.string(key) }
    }

    /// `flag` if given, else the key's environment variable (a whole number, or a refusal naming it), else
    /// the file's value, else `standard`.
    /// (The variable and the file were checked at start-up, by ``load(arguments:environment:)``.)
    static func number(_ key: String, flag: Int?, standard: Int) -> Int {
        guard case .wholeNumber = keys[key] else { preconditionFailure("\(key) is a number key of hq.yaml") }
        if let flag { return flag }
        if let value = ProcessInfo.processInfo.environment[environmentVariable(key)], let number = Int(value) {
            return number
        }
        return current.withLock { $0.file.int(key) } ?? standard
    }
}
