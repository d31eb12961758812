import ConfigurationFile
import Foundation
import LoyaltyCore
import Synchronization

/// The agent's configuration file, `/etc/loyalty-agent/agent.yaml` (or `--config PATH`,
/// `$LOYALTY_AGENT_CONFIG`). Flags override environment variables, which override the file.
///
/// ```yaml
/// db: /var/lib/loyalty-agent/ledger.db
/// store_id: store-0042
/// till: 3                  # one till of a store with several (its ledger is store-0042.3)
/// hub:
///   url: http://10.0.0.5:8790   # the store hub on the LAN (on the hub itself: listen: 0.0.0.0:8790)
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
    /// Every key and the kind of value it takes.
    static let keys: [String: ConfigurationFile.ValueKind] = [
        "db": .text, "store_id": .text, "currency": .text, "offline_redeem_cap": .wholeNumber(0...1_000_000_000_000),
        "hq.url": .text, "hq.store_secret_file": .text, "scanner.layout": .text,
        "member_ranges": .text, "listen": .text, "scanner.allow": .text, "scanner.device_layouts": .text,
        "api.token_file": .text, "hq.ca_file": .text, "till": .wholeNumber(1...999), "hub.url": .text,
        "hub.listen": .text,
    ]

    let file: ConfigurationFile
    var path: String? { file.path }

    static let empty = AgentConfigFile(file: .empty)

    /// The configuration every command reads; set once by the entry point before commands run.
    static let current = Mutex<AgentConfigFile>(.empty)

    func string(_ key: String) -> String? { file.string(key) }
    func int(_ key: String) -> Int? { file.int(key) }

    /// Loads the file named on the command line or in the environment, else the default one if it
    /// exists. A missing file that was named explicitly is an error.
    static func load(arguments: [String], environment: [String: String]) async throws(LoyaltyError) -> AgentConfigFile {
        let explicit = ConfigurationFile.explicitPath(arguments: arguments, environment: environment, variable: "LOYALTY_AGENT_CONFIG")
        let file = try await ConfigurationFile.load(explicitPath: explicit, defaultPath: defaultPath, keys: keys)
        if let currency = file.string("currency") { _ = try Currency.named(currency) }
        return AgentConfigFile(file: file)
    }
}
