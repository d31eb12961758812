import Foundation
import Logging
import LoyaltyCore
import PointOfSaleAPI
import ServiceLifecycle
import SyncClient
import Synchronization

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
                try? await DispatchFreeWaiting.sleep(milliseconds: max(1, intervalMicroseconds / 1000))
            }
        }
    }
}

/// The sync loop as a service: stops at the next wait when the group shuts down.
struct SyncService: Service {
    let loop: SyncLoop
    let metrics: AgentMetrics
    let logger: Logger

    func run() async throws {
        let offlineSince = Mutex<Date?>(nil)
        logger.notice(
            "sync with head office every \(Int(loop.intervalSeconds)) s",
            metadata: ["url": "\(loop.client.settings.headOfficeURL.absoluteString)", "store": "\(loop.client.settings.storeId)"])
        await cancelWhenGracefulShutdown {
            await loop.run { result in
                switch result {
                case .failure(let error):
                    metrics.syncFailed()
                    let first = offlineSince.withLock { since in
                        defer { since = since ?? Date() }
                        return since == nil
                    }
                    // The first failure is a warning; repeats while still offline are only informational.
                    if first {
                        logger.warning("sync failed: \(error)")
                    } else {
                        logger.info("sync failed again: \(error)")
                    }
                case .success(let report):
                    if let since = offlineSince.withLock({ since in defer { since = nil }; return since }) {
                        logger.notice(
                            "head office reachable again after \(Int(Date().timeIntervalSince(since))) s offline",
                            metadata: ["pushed": "\(report.pushedEntries)"])
                    }
                }
                // The HTTP client and TLS code ran once; until the next sync it need not stay mapped.
                CodePageAdvice.releaseCodePages()
            }
        }
    }
}

/// SIGHUP: re-reads agent.yaml (a bad file is refused and the running settings kept) and asks the
/// scanners to restart with it.
struct ConfigReloader: Sendable {
    let reload: ReloadRequest
    let notifier: SystemdNotifier
    let logger: Logger

    func reloadNow() async {
        notifier.notify("RELOADING=1")
        do {
            let file = try await AgentConfigFile.load(
                arguments: CommandLine.arguments, environment: ProcessInfo.processInfo.environment)
            AgentConfigFile.current.withLock { $0 = file }
            logger.notice("reload: read \(file.path ?? "no configuration file")")
            reload.request()
        } catch {
            logger.error("reload refused, the running settings stay: \(error.message)")
        }
        notifier.notify("READY=1")
    }
}
