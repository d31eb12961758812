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

    /// The configured hub URL (flag, environment, agent.yaml, else the one this till's daemon last ran with),
    /// nil when this till has none.
    func hubURL(_ ledger: LedgerDatabase? = nil) throws(LoyaltyError) -> URL? {
        let environment = ProcessInfo.processInfo.environment
        let remembered = (try? ledger?.rememberedStoreHub()).flatMap { $0 == Self.theHubItself ? nil : $0 }
        guard
            let text = hubUrl ?? environment["LOYALTY_HUB_URL"]
                ?? AgentConfigFile.current.withLock({ $0.string("hub.url") }) ?? remembered,
            !text.isEmpty
        else { return nil }
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil,
            url.port.map { (1...65_535).contains($0) } ?? true
        else {
            throw .badInput(
                "bad_hub_url",
                "--hub-url '\(text.prefix(80))' must be an http(s) URL with a port 1 to 65535, e.g. http://10.0.0.5:8790"
            )
        }
        return url
    }

    /// Whether this box is the store hub itself (`hub.listen` in agent.yaml, `$LOYALTY_HUB_LISTEN`, or its daemon
    /// last ran as the hub): its commands then exchange with the hub's tables in its own ledger file, as its
    /// daemon does. (Found by attack: a command run without the daemon's settings redeemed alone, beside the hub.)
    func isTheHub(_ ledger: LedgerDatabase? = nil) -> Bool {
        let listen =
            ProcessInfo.processInfo.environment["LOYALTY_HUB_LISTEN"]
            ?? AgentConfigFile.current.withLock { $0.string("hub.listen") }
        if !(listen ?? "").isEmpty { return true }
        return hubUrl == nil && (try? ledger?.rememberedStoreHub()) == Self.theHubItself
    }

    /// What the daemon remembers in the ledger when it is the hub itself (else the hub's URL).
    static let theHubItself = "this-till"

    /// Whether this till has a store hub (or is it).
    func configured(_ ledger: LedgerDatabase) throws(LoyaltyError) -> Bool {
        if isTheHub(ledger) { return true }
        return try hubURL(ledger) != nil
    }

    /// Runs `redeem` (which writes the redemption) inside the hub's decision when a hub is configured
    /// (`settings` non-nil): held at the hub first, the entry to the hub after; a refused hold refuses it.
    func withRedemption(
        ledger: LedgerDatabase, settings: SyncSettings?, card: CardNumber, points: Int64, receipt: ReceiptReference,
        _ redeem: () throws -> RedeemResult
    ) async throws -> RedeemResult {
        guard let settings else { return try redeem() }
        return try await withExchange(ledger: ledger, settings: settings) { exchange in
            let redemption = HubRedemption(exchange: exchange)
            let held = try await redemption.prepare(card: card, points: points, receipt: receipt)
            let result: RedeemResult
            do {
                result = try redeem()
            } catch {
                await redemption.finish(held: held, written: false, card: card, receipt: receipt)
                throw error
            }
            await redemption.finish(held: held, written: !result.replayed, card: card, receipt: receipt)
            return result
        }
    }

    /// Runs `body` with an exchange with the hub: the hub's tables in this ledger file on the hub's own box,
    /// else over the LAN (its HTTP client shut down after).
    func withExchange<T>(
        ledger: LedgerDatabase, settings: SyncSettings, _ body: (HubExchange) async throws -> T
    ) async throws -> T {
        if isTheHub(ledger) {
            return try await body(
                HubExchange(ledger: ledger, connection: LocalHubConnection(hub: HubService(ledger: ledger))))
        }
        guard let url = try hubURL(ledger) else {
            throw LoyaltyError.badInput("bad_hub_url", "no store hub is configured")
        }
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(3)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let result: Result<T, any Error>
        do {
            result = .success(
                try await body(
                    HubExchange(
                        ledger: ledger,
                        connection: HTTPHubConnection(hubURL: url, settings: settings, http: http, clock: ledger))))
        } catch {
            result = .failure(error)
        }
        // A client dropped without a shutdown traps (AsyncHTTPClient's precondition).
        try? await http.shutdown()
        return try result.get()
    }

    /// An exchange with the store hub when one is configured (nil when none); a hub that cannot be reached
    /// is an answer too: the till then works alone.
    func exchangeIfConfigured(
        ledger: LedgerDatabase, settings: SyncSettings
    ) async throws -> Result<HubExchangeReport, StoreHubFailure>? {
        guard try configured(ledger) else { return nil }
        return try await withExchange(ledger: ledger, settings: settings) { exchange in
            do {
                return .success(try await exchange.exchangeOnce())
            } catch let failure as StoreHubFailure {
                return .failure(failure)
            } catch let refusal as HubRefusal {
                // The hub's own box: its tables refused (a conflict, a withdrawn till).
                return .failure(.refused(status: 0, code: refusal.code, message: refusal.message))
            }
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
