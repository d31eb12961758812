import ArgumentParser
import AsyncHTTPClient
import CardReader
import Foundation
import Hummingbird
import LedgerStore
import Logging
import LoyaltyCore
import PointOfSaleAPI
import ServiceLifecycle
import StoreHub
import SyncClient

/// `loyalty-agent run`: the store agent as one process — the local POS API on loopback, the
/// scanners feeding its scan stream, and the sync loop — as services of one service group. SIGTERM
/// or SIGINT stops them gracefully: the scanners are released, the write in flight finishes.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Run the store agent: the local POS API (sales, redemptions, refunds, members, a scan stream), the scanners and the sync loop.",
        discussion: """
            The API (sync/pos-api.yaml) listens on loopback; the CLI keeps working beside it on the same ledger. Scanners \
            are watched and grabbed as by `scan`; each scan goes to the API's event stream (GET /v1/scans). With a head \
            office configured (--hq-url or as for `sync`), the sync loop runs every --interval seconds. Prints one line \
            when ready: `loyalty-agent ready on http://HOST:PORT`. Stops on SIGTERM or SIGINT.
            """)

    @Option(
        help: ArgumentHelp(
            "Where the API and pages listen: HOST:PORT on loopback (port 0: any free one; default: listen in agent.yaml, else 127.0.0.1:8787).",
            valueName: "host:port"))
    var listen: String?
    @Flag(help: "Do not watch scanners (a till without readers, or tests).") var noScanners = false
    @Option(name: .customLong("scanner"), help: ArgumentHelp("A scanner by USB id (repeatable).", valueName: "VID:PID"))
    var scanners: [String] = []
    @Option(
        help: ArgumentHelp(
            "The XKB layout scanners are set to (default: scanner.layout in agent.yaml, else us).", valueName: "name"))
    var layout: String?
    @Option(help: ArgumentHelp("Seconds between syncs when all is well.", valueName: "seconds")) var interval: Double =
        30
    @Option(
        help: ArgumentHelp(
            "Serve as the store hub for the store's other tills on HOST:PORT, e.g. 0.0.0.0:8790 (default: "
                + "$LOYALTY_HUB_LISTEN, else hub.listen in agent.yaml; none: not the hub).",
            valueName: "host:port"))
    var hubListen: String?
    @Option(help: ArgumentHelp("Milliseconds between exchanges with the store hub.", valueName: "milliseconds"))
    var hubIntervalMilliseconds: Int64 = 2_000
    @OptionGroup var hub: StoreHubOptions
    @OptionGroup var sync: SyncOptions
    @OptionGroup var apiToken: APITokenOptions
    @OptionGroup var global: GlobalOptions

    /// Whether the entry point moved Swift's global executor onto NIO's event loops (logged at start).
    nonisolated(unsafe) static var tasksOnEventLoops = false

    func run() async throws {
        do {
            try await serve()
        } catch let error as LoyaltyError {
            Printer.err("loyalty-agent run: \(error.message)")
            throw ExitCode(error.category == .badInput ? 2 : 1)
        }
    }

    private func serve() async throws {
        let (host, port) = try Self.address(
            listen ?? AgentConfigFile.current.withLock { $0.string("listen") } ?? "127.0.0.1:8787")
        guard interval >= 1, interval <= 86_400 else {
            throw LoyaltyError.badInput("bad_option", "--interval takes 1 to 86400 seconds")
        }
        let ledger = try global.openLedger()
        let tokenFile = try apiToken.sourceForDaemon(global: global)
        MemberRanges.adopt(from: ledger)
        let memberRanges = global.memberRanges
        LoggingSystem.bootstrap { JournalLogHandler(label: $0) }
        let metrics = AgentMetrics(registry: AgentMetrics.bootstrap())
        let logger = Logger(label: "loyalty-agent")
        logger.debug("starting", metadata: ["tasks_on_event_loops": "\(Self.tasksOnEventLoops)"])
        // The HTTP server's own messages: warnings and worse only.
        var serverLogger = logger
        serverLogger.logLevel = .warning
        let scans = ScanFeed()
        let board = ScannerBoard()
        let notifier = SystemdNotifier()
        // No head office configured: the till works alone (a warning below). One configured but unusable
        // (no secret file, no store id, plain http beyond loopback, a bad URL) stops start-up with the reason.
        let syncSettings = sync.headOfficeConfigured ? try sync.settings(for: ledger) : nil
        let syncHTTP = try syncSettings.map { try HeadOfficeHTTPClient.make(for: $0, failFast: true) }
        // Whatever stops start-up or the run (a port in use, a bad scanner setting), the client is shut down first:
        // one dropped without a shutdown traps (found by attack: a daemon that could not start crashed instead).
        do {
            let syncClient = syncSettings.flatMap { settings in
                syncHTTP.map { SyncClient(ledger: ledger, settings: settings, http: $0) }
            }
            var api = PointOfSaleRouter(
                ledger: ledger, scans: scans, board: board, metrics: metrics,
                facts: AgentFacts(scannersWatched: !noScanners, headOfficeConfigured: syncSettings != nil),
                apiToken: tokenFile
            ) {
                (try? MemberRanges.rules(flags: memberRanges)) ?? CardScanRules(memberRanges: [])
            }
            let hubListens = hubListenAddress() != nil
            let readiness = ListenerReadiness(listeners: hubListens ? 2 : 1) { lines in
                for line in lines { Printer.out(line) }
                notifier.notify("READY=1\nSTATUS=" + lines.joined(separator: "; "))
                CodePageAdvice.releaseCodePages()
            }
            let storeHub = try storeHubServices(
                ledger: ledger, syncSettings: syncSettings, syncClient: syncClient, board: board, logger: logger,
                serverLogger: serverLogger, readiness: readiness)
            if let exchange = storeHub.exchange {
                let redemption = HubRedemption(exchange: exchange)
                api.storeHubBeforeRedemption = { try await redemption.prepare(card: $0, points: $1, receipt: $2) }
                api.storeHubAfterRedemption = { await redemption.finish(held: $0, written: $1, card: $2, receipt: $3) }
            }
            let returns = ReturnAnywhere(ledger: ledger, headOffice: syncClient)
            if let syncClient { api.learnCards = { try? await syncClient.learnMembersIfUnknown(cards: $0) } }
            api.returnElsewhere = { request in
                try await returns.refund(
                    receipt: request.receipt, soldAt: request.soldAt, amount: request.amount, lines: request.lines,
                    returnReceipt: request.returnReceipt)
            }
            // Not Hummingbird's Application: its date cache would wake the idle daemon every second.
            let app = TimerlessHTTPService(
                router: api.router(), address: .hostname(host, port: port), logger: serverLogger
            ) { channel in
                let url = "http://\(host):\(channel.localAddress?.port ?? port)"
                readiness.bound(order: 1, line: "loyalty-agent ready on \(url)")
            }
            let reload = ReloadRequest()
            var services: [any Service] = [app] + storeHub.services
            if !noScanners {
                // The scanner settings as `scan` reads them (agent.yaml's scanner.* included), read again on SIGHUP.
                let arguments =
                    scanners.flatMap { ["--scanner", $0] } + (layout.map { ["--layout", $0] } ?? [])
                    + memberRanges.flatMap { ["--member-range", $0] }
                let configuration: @Sendable () throws -> ScannerConfiguration = {
                    try ScannerOptions.parse(arguments).configuration()
                }
                _ = try configuration()  // a bad setting stops start-up with its reason
                services.append(
                    ScannerService(
                        configuration: configuration, ledger: ledger, scans: scans, board: board, metrics: metrics,
                        reload: reload,
                        logger: logger))
            }
            if let syncClient {
                var loop = SyncLoop(client: syncClient, intervalSeconds: interval)
                loop.sleep = { try await DispatchFreeWaiting.sleep(milliseconds: $0) }
                services.append(SyncService(loop: loop, metrics: metrics, logger: logger))
            } else {
                logger.warning(
                    "no head office configured (--hq-url, LOYALTY_HQ_URL or hq.url in agent.yaml): not syncing")
            }
            if let interval = SystemdNotifier.watchdogIntervalMicroseconds() {
                services.append(WatchdogService(notifier: notifier, intervalMicroseconds: interval))
            }
            // Last, so it stops first: ending the scan streams lets the server's graceful shutdown finish.
            services.append(ScanFeedService(scans: scans, notifier: notifier))
            let group = ServiceGroup(
                configuration: .init(services: services, logger: logger))
            // SIGTERM/SIGINT stop the group gracefully, SIGHUP reloads; a thread in sigwait hears them
            // (a Dispatch signal source would start Dispatch's pool and its once-a-second monitor).
            let reloader = ConfigReloader(reload: reload, notifier: notifier, logger: logger)
            SignalWaiter { signal in
                Task {
                    if signal == SIGHUP { await reloader.reloadNow() } else { await group.triggerGracefulShutdown() }
                }
            }.start()
            try await group.run()
        } catch {
            try? await syncHTTP?.shutdown()
            throw error
        }
        // A client dropped without a shutdown traps (AsyncHTTPClient's precondition, release builds too).
        try? await syncHTTP?.shutdown()
        scans.finish()
        logger.notice("stopped")
    }

    /// Where this till serves as the store hub, if it is the hub.
    private func hubListenAddress() -> String? {
        hubListen ?? ProcessInfo.processInfo.environment["LOYALTY_HUB_LISTEN"]
            ?? AgentConfigFile.current.withLock { $0.string("hub.listen") }
    }

    /// The store hub's listener and loop (this agent is the hub), or the loop of a till that uses one.
    private func storeHubServices(
        ledger: LedgerDatabase, syncSettings: SyncSettings?, syncClient: SyncClient?, board: ScannerBoard,
        logger: Logger,
        serverLogger: Logger, readiness: ListenerReadiness
    ) throws -> (services: [any Service], exchange: HubExchange?) {
        let listen = hubListenAddress()
        let hubURL = try hub.hubURL()
        guard listen != nil || hubURL != nil else {
            try ledger.rememberStoreHub(nil)
            return ([], nil)
        }
        guard (100...600_000).contains(hubIntervalMilliseconds) else {
            throw LoyaltyError.badInput("bad_option", "--hub-interval-milliseconds takes 100 to 600000")
        }
        guard !(listen != nil && hubURL != nil) else {
            throw LoyaltyError.badInput(
                "bad_option", "a till is the store hub (--hub-listen) or uses one (--hub-url), not both")
        }
        guard TillIdentity(ledgerName: ledger.storeId)?.till != nil else {
            throw LoyaltyError.badInput(
                "bad_option",
                "the store hub joins the tills of one store: give this till its number (--store-id STORE --till N)")
        }
        guard let syncSettings, let syncClient else {
            throw LoyaltyError.badInput(
                "bad_option",
                "the store hub needs head office's settings too (--hq-url and the store's secret file): the tills sign with "
                    + "the store's secret, and the hub relays them to head office")
        }
        let scanners: @Sendable () -> [String] = { board.attachedScanners.map(\.name) }
        // Commands run on this box later use the same hub, given it or not.
        try ledger.rememberStoreHub(listen != nil ? StoreHubOptions.theHubItself : hubURL?.absoluteString)
        if let listen {
            let (host, port) = try Self.hubAddress(listen)
            let service = HubService(ledger: ledger)
            // A new generation at each start: tills read the hub again from the start (it may be an older copy).
            try ledger.rotateHubGeneration()
            let router = StoreHubRouter(hub: service, settings: syncSettings)
            let server = TimerlessHTTPService(
                router: router.router(), address: .hostname(host, port: port), logger: serverLogger
            ) {
                channel in
                readiness.bound(
                    order: 0,
                    line: "loyalty-agent store hub ready on http://\(host):\(channel.localAddress?.port ?? port)")
            }
            let exchange = HubExchange(ledger: ledger, connection: LocalHubConnection(hub: service), scanners: scanners)
            let loop = StoreHubService(
                exchange: exchange, relay: HubRelay(ledger: ledger, headOffice: syncClient),
                intervalMilliseconds: hubIntervalMilliseconds, logger: logger)
            logger.notice("serving as the store hub of store \(service.storeId ?? "?") on \(host):\(port)")
            return ([server, loop], exchange)
        }
        guard let hubURL else { return ([], nil) }
        let connection = HTTPHubConnection(hubURL: hubURL, settings: syncSettings, http: syncClient.http, clock: ledger)
        logger.notice("exchanging with the store hub \(hubURL.absoluteString) every \(hubIntervalMilliseconds) ms")
        let exchange = HubExchange(ledger: ledger, connection: connection, scanners: scanners)
        return (
            [
                StoreHubService(
                    exchange: exchange, relay: nil, intervalMilliseconds: hubIntervalMilliseconds, logger: logger)
            ], exchange
        )
    }

    /// The hub listens on the store's LAN (its requests are signed); any host, a port 0 to 65535.
    static func hubAddress(_ text: String) throws(LoyaltyError) -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port),
            colon > text.startIndex
        else {
            throw .badInput("bad_listen", "--hub-listen (hub.listen in agent.yaml) takes HOST:PORT, e.g. 0.0.0.0:8790")
        }
        return (String(text[..<colon]), port)
    }

    static func address(_ text: String) throws(LoyaltyError) -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port)
        else {
            throw .badInput("bad_listen", "--listen (listen in agent.yaml) takes HOST:PORT, e.g. 127.0.0.1:8787")
        }
        let host = String(text[..<colon])
        guard ["127.0.0.1", "::1", "localhost"].contains(host) else {
            throw .badInput(
                "bad_listen",
                "--listen (listen in agent.yaml) serves on loopback only (127.0.0.1, ::1 or localhost): the API has no authentication"
            )
        }
        return (host, port)
    }
}
