import Foundation
import HeadOffice
import Hummingbird
import LedgerStore
import Logging
import LoyaltyCore
import PointOfSaleAPI
import ServiceLifecycle
import Synchronization

/// The demo's servers in this process: head office on SQLite and each store's POS API with its pages,
/// and any other router (a store hub), all on loopback ports the kernel picks, as one service group.
final class DemoServers: Sendable {
    private let addresses = Mutex<[String: String]>([:])
    private let group: Mutex<ServiceGroup?> = Mutex(nil)

    /// Starts head office (`hq`) and one POS API per store; returns once every server listens.
    func start(
        headOffice: any HeadOfficeStore, stores: [(id: String, ledger: LedgerDatabase, scans: ScanFeed)],
        others: [(name: String, router: Router<BasicRequestContext>)] = []
    ) async throws {
        var logger = Logger(label: "loyalty-demo")
        logger.logLevel = .error
        var services: [any Service] = []
        services.append(app(name: "hq", router: HeadOfficeAPI(store: headOffice).router(), logger: logger))
        for store in stores {
            let router = PointOfSaleRouter(
                ledger: store.ledger, scans: store.scans,
                facts: AgentFacts(scannersWatched: false, headOfficeConfigured: true), apiToken: FixedAPIToken()
            ) { CardScanRules(memberRanges: []) }
            services.append(app(name: store.id, router: router.router(), logger: logger))
        }
        for other in others { services.append(app(name: other.name, router: other.router, logger: logger)) }
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        self.group.withLock { $0 = group }
        Task { try? await group.run() }
        // Every server prints nothing itself: wait until each has told us its port (at most 10 s).
        for _ in 0..<200 where addresses.withLock({ $0.count }) < services.count {
            try await Task.sleep(for: .milliseconds(50))
        }
        guard addresses.withLock({ $0.count }) == services.count else {
            throw LoyaltyError.refused("demo_start", "the demo's servers did not start on loopback")
        }
    }

    func url(_ name: String) -> String { addresses.withLock { $0[name] ?? "" } }

    func stop() async {
        let group = self.group.withLock { $0 }
        await group?.triggerGracefulShutdown()
    }

    private func app(name: String, router: Router<BasicRequestContext>, logger: Logger) -> some Service {
        Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { [self] channel in
                self.addresses.withLock { $0[name] = "http://127.0.0.1:\(channel.localAddress?.port ?? 0)" }
            },
            logger: logger)
    }
}
