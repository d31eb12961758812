import Foundation
import Logging
import ServiceLifecycle
import StoreHub
import Synchronization

/// The exchange with the store hub as a service: every few seconds (tills see each other's entries within
/// seconds even with head office unreachable), and on the hub itself the relay of the other tills'
/// entries to head office. A hub that cannot be reached leaves the till working alone; it is logged when
/// it goes and when it comes back, not at every attempt.
struct StoreHubService: Service {
    let exchange: HubExchange
    let relay: HubRelay?
    let intervalMilliseconds: Int64
    let logger: Logger

    func run() async throws {
        precondition(intervalMilliseconds >= 100, "the hub is not polled more than ten times a second")
        let lostSince = Mutex<Date?>(nil)
        let relayFailures = Mutex<[String: String]>([:])
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    _ = try await exchange.exchangeOnce()
                    if let since = lostSince.withLock({ since in
                        defer { since = nil }
                        return since
                    }) {
                        logger.notice("store hub reachable again after \(Int(Date().timeIntervalSince(since))) s")
                    }
                } catch {
                    let first = lostSince.withLock { since in
                        defer { since = since ?? Date() }
                        return since == nil
                    }
                    if first {
                        logger.warning("store hub exchange failed, working alone until it is back: \(error)")
                    }
                }
                if let relay {
                    let outcome = await relay.relayOnce()
                    // Said when a till's relay starts failing or its reason changes, not every few hundred ms.
                    let changed = relayFailures.withLock { known in
                        defer { known = outcome.failures }
                        return outcome.failures.filter { known[$0.key] != $0.value }
                    }
                    for (till, failure) in changed.sorted(by: { $0.key < $1.key }) {
                        logger.info("relaying till \(till) to head office failed: \(failure)")
                    }
                }
                try? await DispatchFreeWaiting.sleep(milliseconds: intervalMilliseconds)
            }
        }
    }
}
