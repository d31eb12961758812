import Configuration
import Foundation
import LoyaltyCore
import Synchronization
import SystemPackage
import Yams

/// The agent's configuration file, `/etc/loyalty-agent/agent.yaml` (or `--config PATH`,
/// `$LOYALTY_AGENT_CONFIG`). Flags override environment variables, which override the file.
///
/// ```yaml
/// db: /var/lib/loyalty-agent/ledger.db
/// store_id: store-0042
/// currency: EUR
/// offline_redeem_cap: 500
/// hq:
///   url: https://hq.example.com
///   store_secret_file: /etc/loyalty-agent/store-secret
/// listen: 127.0.0.1:8787
/// scanner:
///   layout: de
///   allow: 05f9:2206, 0c2e:0b61
///   device_layouts: 05f9:2206=fr
/// ```
/// A key the agent does not know, or a value of the wrong type, stops start-up with the key and
/// the reason.
struct AgentConfigFile: Sendable {
    static let defaultPath = "/etc/loyalty-agent/agent.yaml"
    /// Every key and the type its value must have.
    static let keys: [String: String] = [
        "db": "string", "store_id": "string", "currency": "string", "offline_redeem_cap": "integer",
        "hq.url": "string", "hq.store_secret_file": "string", "scanner.layout": "string",
        "member_ranges": "string", "listen": "string", "scanner.allow": "string", "scanner.device_layouts": "string",
        "api.token_file": "string", "hq.ca_file": "string",
    ]

    let path: String?
    private let reader: ConfigReader?

    static let empty = AgentConfigFile(path: nil, reader: nil)

    /// The configuration every command reads; set once by the entry point before commands run.
    static let current = Mutex<AgentConfigFile>(.empty)

    func string(_ key: String) -> String? { reader?.string(forKey: ConfigKey(key)) }
    func int(_ key: String) -> Int? { reader?.int(forKey: ConfigKey(key)) }

    /// Loads the file named on the command line or in the environment, else the default one if it
    /// exists. A missing file that was named explicitly is an error.
    static func load(arguments: [String], environment: [String: String]) async throws(LoyaltyError) -> AgentConfigFile {
        var explicit = environment["LOYALTY_AGENT_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        if let index = arguments.firstIndex(of: "--config"), index + 1 < arguments.count { explicit = arguments[index + 1] }
        if let flag = arguments.first(where: { $0.hasPrefix("--config=") }) { explicit = String(flag.dropFirst("--config=".count)) }
        let path = explicit ?? defaultPath
        guard FileManager.default.fileExists(atPath: path) else {
            if explicit != nil { throw .badInput("bad_config", "configuration file \(path) does not exist") }
            return .empty
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .badInput("bad_config", "configuration file \(path) cannot be read; check its owner and mode")
        }
        try validate(text, path: path)
        do {
            let provider = try await FileProvider<YAMLSnapshot>(filePath: FilePath(path))
            return AgentConfigFile(path: path, reader: ConfigReader(provider: provider))
        } catch {
            throw .badInput("bad_config", "\(path): \(error)")
        }
    }

    /// Every key known, every value of its type.
    static func validate(_ text: String, path: String) throws(LoyaltyError) {
        let document: Any?
        do {
            document = try Yams.load(yaml: text)
        } catch {
            throw .badInput("bad_config", "\(path) is not valid YAML: \(String(describing: error).prefix(200))")
        }
        guard let document else { return }
        guard let root = document as? [String: Any] else {
            throw .badInput("bad_config", "\(path) must be a mapping of keys to values, e.g. `store_id: store-0042`")
        }
        func walk(_ mapping: [String: Any], prefix: String) throws(LoyaltyError) {
            for (name, value) in mapping {
                let key = prefix.isEmpty ? name : prefix + "." + name
                if let nested = value as? [String: Any] {
                    guard keys.keys.contains(where: { $0.hasPrefix(key + ".") }) else {
                        throw .badInput("bad_config", "\(path): unknown key '\(key)'; known keys: \(keys.keys.sorted().joined(separator: ", "))")
                    }
                    try walk(nested, prefix: key)
                    continue
                }
                guard let type = keys[key] else {
                    throw .badInput("bad_config", "\(path): unknown key '\(key)'; known keys: \(keys.keys.sorted().joined(separator: ", "))")
                }
                switch type {
                case "integer":
                    guard let number = value as? Int, number >= 0 else {
                        throw .badInput("bad_config", "\(path): '\(key)' must be a whole number ≥ 0")
                    }
                default:
                    guard let text = value as? String, !text.isEmpty else {
                        throw .badInput("bad_config", "\(path): '\(key)' must be a non-empty text value")
                    }
                }
            }
        }
        try walk(root, prefix: "")
        if let currency = root["currency"] as? String { _ = try Currency.named(currency) }
    }
}
