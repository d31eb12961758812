import ArgumentParser
import AsyncHTTPClient
import Foundation
import LedgerStore
import LoyaltyCore
import StoreHub
import SyncClient

/// Where this till's store hub is (a store with several tills), or where this agent serves as the hub.
struct StoreHubOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The store hub on the LAN, e.g. http://10.0.0.5:8790 (default: $LOYALTY_HUB_URL, else hub.url in agent.yaml).",
            valueName: "url"))
    var hubUrl: String?

    /// The configured hub URL, nil when this till has none.
    func hubURL() throws(LoyaltyError) -> URL? {
        let environment = ProcessInfo.processInfo.environment
        guard
            let text = hubUrl ?? environment["LOYALTY_HUB_URL"] ?? AgentConfigFile.current.withLock({ $0.string("hub.url") }),
            !text.isEmpty
        else { return nil }
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil,
            (url.port.map { (1...65_535).contains($0) } ?? true)
        else {
            throw .badInput("bad_hub_url", "--hub-url '\(text.prefix(80))' must be an http(s) URL with a port 1 to 65535, e.g. http://10.0.0.5:8790")
        }
        return url
    }

    /// Whether this box is the store hub itself (`hub.listen` in agent.yaml or `$LOYALTY_HUB_LISTEN`): its
    /// commands then exchange with the hub's tables in its own ledger file, as its daemon does.
    var isTheHub: Bool {
        let listen = ProcessInfo.processInfo.environment["LOYALTY_HUB_LISTEN"]
            ?? AgentConfigFile.current.withLock { $0.string("hub.listen") }
        return !(listen ?? "").isEmpty
    }

    /// Whether this till has a store hub (or is it).
    var configured: Bool {
        get throws(LoyaltyError) {
            if isTheHub { return true }
            return try hubURL() != nil
        }
    }

    /// An exchange with the store hub when one is configured (nil when none); a hub that cannot be reached
    /// is an answer too: the till then works alone.
    func exchangeIfConfigured(
        ledger: LedgerDatabase, settings: SyncSettings
    ) async throws -> Result<HubExchangeReport, StoreHubFailure>? {
        if isTheHub {
            // Found by attack: the hub's own till redeemed from its own view, points another till had just spent.
            let exchange = HubExchange(ledger: ledger, connection: LocalHubConnection(hub: HubService(ledger: ledger)))
            do {
                return .success(try await exchange.exchangeOnce())
            } catch let failure as StoreHubFailure {
                return .failure(failure)
            } catch let refusal as HubRefusal {
                return .failure(.refused(status: 0, code: refusal.code, message: refusal.message))
            }
        }
        guard let url = try hubURL() else { return nil }
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(3)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let exchange = HubExchange(ledger: ledger, connection: HTTPHubConnection(hubURL: url, settings: settings, http: http))
        let result: Result<HubExchangeReport, any Error>
        do {
            result = .success(try await exchange.exchangeOnce())
        } catch {
            result = .failure(error)
        }
        // A client dropped without a shutdown traps (AsyncHTTPClient's precondition).
        try? await http.shutdown()
        switch result {
        case .success(let report): return .success(report)
        case .failure(let failure as StoreHubFailure): return .failure(failure)
        case .failure(let error): throw error
        }
    }
}

extension HubExchangeReport {
    /// One line for the cashier or manager.
    var summary: String {
        "Store hub: pushed \(pushedEntries) entries (it holds up to \(hubAcknowledged)), received \(receivedEntries) entries of the "
            + "store's other tills; \(tills.count) tills known."
    }
}
