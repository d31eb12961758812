import Foundation
import Logging
import LoyaltyCore
import PointOfSaleAPI
import ServiceLifecycle
import SyncClient

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
        await cancelWhenGracefulShutdown {
            await loop.run { result in
                if case .failure(let error) = result {
                    metrics.syncFailed()
                    logger.warning("sync failed: \(error)")
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
