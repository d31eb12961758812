import ArgumentParser
import CardReader
import Foundation
import Hummingbird
import LedgerStore
import Logging
import LoyaltyCore
import PointOfSaleAPI
import ServiceLifecycle
import Synchronization
import SyncClient

/// `loyalty-agent run`: the store agent as one process — the local POS API on loopback, the
/// scanners feeding its scan stream, and the sync loop — as services of one service group. SIGTERM
/// or SIGINT stops them gracefully: the scanners are released, the write in flight finishes.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the store agent: the local POS API (sales, redemptions, refunds, members, a scan stream), the scanners and the sync loop.",
        discussion: """
            The API (sync/pos-api.yaml) listens on loopback; the CLI keeps working beside it on the same ledger. Scanners \
            are watched and grabbed as by `scan`; each scan goes to the API's event stream (GET /v1/scans). With a head \
            office configured (--hq-url or as for `sync`), the sync loop runs every --interval seconds. Prints one line \
            when ready: `loyalty-agent ready on http://HOST:PORT`. Stops on SIGTERM or SIGINT.
            """)

    @Option(help: ArgumentHelp("Where the API listens: HOST:PORT on loopback (port 0: any free one).", valueName: "host:port"))
    var listen = "127.0.0.1:8787"
    @Flag(help: "Do not watch scanners (a till without readers, or tests).") var noScanners = false
    @Option(name: .customLong("scanner"), help: ArgumentHelp("A scanner by USB id (repeatable).", valueName: "VID:PID"))
    var scanners: [String] = []
    @Option(help: ArgumentHelp("The XKB layout scanners are set to (default: scanner.layout in agent.yaml, else us).", valueName: "name"))
    var layout: String?
    @Option(help: ArgumentHelp("Seconds between syncs when all is well.", valueName: "seconds")) var interval: Double = 30
    @OptionGroup var sync: SyncOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        do {
            try await serve()
        } catch let error as LoyaltyError {
            Printer.err("loyalty-agent run: \(error.message)")
            throw ExitCode(error.category == .badInput ? 2 : 1)
        }
    }

    private func serve() async throws {
        let (host, port) = try Self.address(listen)
        guard interval >= 1, interval <= 86_400 else { throw LoyaltyError.badInput("bad_option", "--interval takes 1 to 86400 seconds") }
        let ledger = try global.openLedger()
        MemberRanges.adopt(from: ledger)
        let memberRanges = global.memberRanges
        let scans = ScanFeed()
        let notifier = SystemdNotifier()
        var logger = Logger(label: "loyalty-agent")
        logger.logLevel = .warning
        let api = PointOfSaleRouter(ledger: ledger, scans: scans) {
            (try? MemberRanges.rules(flags: memberRanges)) ?? CardScanRules(memberRanges: [])
        }
        let app = Application(
            router: api.router(), configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: { channel in
                let url = "http://\(host):\(channel.localAddress?.port ?? port)"
                Printer.out("loyalty-agent ready on \(url)")
                notifier.notify("READY=1\nSTATUS=serving the POS API on \(url)")
            },
            logger: logger)
        var services: [any Service] = [app]
        if !noScanners {
            // The scanner settings as `scan` reads them (agent.yaml's scanner.* included).
            let arguments = scanners.flatMap { ["--scanner", $0] } + (layout.map { ["--layout", $0] } ?? [])
                + memberRanges.flatMap { ["--member-range", $0] }
            let options = try ScannerOptions.parse(arguments)
            services.append(ScannerService(configuration: try options.configuration(), ledger: ledger, scans: scans))
        }
        if let settings = try? sync.settings(for: ledger) {
            services.append(SyncService(loop: SyncLoop(client: SyncClient(ledger: ledger, settings: settings), intervalSeconds: interval)))
        } else {
            Printer.err("loyalty-agent run: no head office configured (--hq-url, LOYALTY_HQ_URL or hq.url in agent.yaml): not syncing")
        }
        if let interval = SystemdNotifier.watchdogIntervalMicroseconds() {
            services.append(WatchdogService(notifier: notifier, intervalMicroseconds: interval))
        }
        // Last, so it stops first: ending the scan streams lets the server's graceful shutdown finish.
        services.append(ScanFeedService(scans: scans, notifier: notifier))
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        scans.finish()
        Printer.err("loyalty-agent run: stopped")
    }

    /// `HOST:PORT` on loopback.
    static func address(_ text: String) throws(LoyaltyError) -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
            throw .badInput("bad_listen", "--listen takes HOST:PORT, e.g. 127.0.0.1:8787")
        }
        let host = String(text[..<colon])
        guard ["127.0.0.1", "::1", "localhost"].contains(host) else {
            throw .badInput("bad_listen", "--listen serves on loopback only (127.0.0.1, ::1 or localhost): the API has no authentication")
        }
        return (host, port)
    }
}

/// The scanners as a service: the watcher runs on its own thread (it blocks in poll) and stops when
/// the group shuts down, releasing every grabbed scanner.
struct ScannerService: Service {
    let configuration: ScannerConfiguration
    let ledger: LedgerDatabase
    let scans: ScanFeed

    func run() async throws {
        let stop = StopFlag()
        let wake = try WakeSignal()
        let configuration = self.configuration
        let ledger = self.ledger
        let scans = self.scans
        try await withGracefulShutdownHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let thread = Thread {
                    do {
                        let watcher = try ScannerWatcher(configuration: configuration)
                        // The watcher sleeps until a device event, or until the shutdown below wakes it.
                        try watcher.run(deadlineMicroseconds: nil, wake: wake, shouldStop: { stop.isSet }) { event in
                            switch event {
                            case .scan(_, let outcome, let device):
                                scans.publish(Printer.json(Scan.line(outcome, device: device, ledger: ledger)))
                            case .attached(let info, let role, let layout, let grabbed):
                                Printer.err("attached \(info.stableId) \(role.rawValue) layout \(layout)\(grabbed ? " grabbed" : "")")
                            case .detached(let info, _):
                                Printer.err("detached \(info.stableId)")
                            case .likelyScanner(let info, _):
                                Printer.err("likely scanner (not configured, not grabbed): \(info.stableId)")
                            case .problem(let message):
                                Printer.err("problem: \(message)")
                            }
                            return true
                        }
                        continuation.resume()
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                thread.start()
            }
        } onGracefulShutdown: {
            stop.set()
            wake.signal()
        }
    }
}

/// Ends every scan stream when the agent shuts down: an open event stream would otherwise keep the
/// HTTP server's graceful shutdown waiting for its connection.
struct ScanFeedService: Service {
    let scans: ScanFeed
    let notifier: SystemdNotifier

    func run() async throws {
        try? await gracefulShutdown()
        notifier.notify("STOPPING=1")
        scans.finish()
    }
}

/// Pings systemd's watchdog at half its `WatchdogSec` (only when systemd asked for it): the one timer
/// the daemon keeps when idle, apart from the sync interval.
struct WatchdogService: Service {
    let notifier: SystemdNotifier
    let intervalMicroseconds: Int64

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                notifier.notify("WATCHDOG=1")
                try? await Task.sleep(for: .microseconds(intervalMicroseconds))
            }
        }
    }
}

/// A flag the shutdown handler sets and the watcher's thread reads.
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}

/// The sync loop as a service: stops at the next wait when the group shuts down.
struct SyncService: Service {
    let loop: SyncLoop

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await loop.run { result in
                if case .failure(let error) = result { Printer.err("sync failed: \(error)") }
            }
        }
    }
}
