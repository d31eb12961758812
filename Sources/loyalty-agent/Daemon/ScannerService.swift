import CardReader
import Foundation
import LedgerStore
import Logging
import PointOfSaleAPI
import ServiceLifecycle
import Synchronization

/// The scanners as a service: the watcher runs on its own thread (it blocks in poll, no timer) and
/// stops when the group shuts down, releasing every grabbed scanner. A reload (SIGHUP) stops the
/// watcher, which releases the scanners, and starts it again with the configuration read afresh.
struct ScannerService: Service {
    /// The scanner settings now: flags over agent.yaml (re-read on reload).
    let configuration: @Sendable () throws -> ScannerConfiguration
    let ledger: LedgerDatabase
    let scans: ScanFeed
    let board: ScannerBoard
    let metrics: AgentMetrics
    let reload: ReloadRequest
    let logger: Logger

    func run() async throws {
        let stop = StopFlag()
        let wake = try WakeSignal()
        reload.wake = wake
        let service = self
        try await withGracefulShutdownHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let thread = Thread {
                    do {
                        try service.watch(until: stop, wake: wake)
                        continuation.resume()
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                thread.name = "scanners"
                thread.start()
            }
        } onGracefulShutdown: {
            stop.set()
            wake.signal()
        }
    }

    /// Watches until `stop`; each reload ends one watcher (releasing its grabs) and starts the next.
    private func watch(until stop: StopFlag, wake: WakeSignal) throws {
        var current = try configuration()
        while !stop.isSet {
            // Keyboards are read for their key timing only (never grabbed, their text never kept), so the
            // manager learns of a scanner that is plugged in but not configured.
            let watcher = try ScannerWatcher(configuration: current, observeKeyboards: true)
            try watcher.run(deadlineMicroseconds: nil, wake: wake, shouldStop: { stop.isSet || reload.isPending }) {
                event in
                handle(event)
                return true
            }
            guard !stop.isSet, reload.take() else { break }
            board.reset()
            do {
                current = try configuration()
                logger.notice(
                    "scanners reloaded",
                    metadata: ["layout": "\(current.defaultLayout)", "allowed": "\(current.allowList.count)"])
            } catch {
                logger.error(
                    "reload: the new scanner settings are refused, keeping the previous ones",
                    metadata: ["reason": "\(error)"])
                board.problem("the scanner settings in agent.yaml were refused at reload: \(error)")
            }
        }
    }

    private func handle(_ event: WatcherEvent) {
        switch event {
        case .scan(_, let outcome, let device):
            let line = Scan.line(outcome, device: device, ledger: ledger)
            metrics.scanned(outcome: line.status == "member" ? "member" : line.reason ?? "unreadable")
            scans.publish(line.json)
            // Never a full card number in the logs: the last 4 digits at most.
            logger.info(
                "scan",
                metadata: [
                    "outcome": "\(line.reason ?? line.status)",
                    "card": "\(line.card.map { "…" + $0.suffix(4) } ?? "-")", "device": "\(device.stableId)",
                ])
        case .attached(let info, let role, _, _) where !role.isScanner:
            logger.debug("watching key timing of \(info.stableId)", metadata: ["role": "\(role.rawValue)"])
        case .attached(let info, let role, let layout, let grabbed):
            board.attached(
                id: info.stableId, node: info.devnode, name: info.name, usbId: info.vendorProduct?.description,
                role: role.rawValue, layout: layout, grabbed: grabbed)
            logger.notice(
                "attached \(info.stableId)",
                metadata: [
                    "node": "\(info.devnode)", "role": "\(role.rawValue)", "layout": "\(layout)",
                    "grabbed": "\(grabbed)",
                ])
        case .detached(let info, _):
            board.detached(id: info.stableId)
            logger.notice("detached \(info.stableId)")
        case .likelyScanner(let info, _):
            board.likelyScanner(
                id: info.stableId, node: info.devnode, name: info.name, usbId: info.vendorProduct?.description)
            logger.warning(
                "likely scanner (not configured, not grabbed): \(info.stableId)", metadata: ["node": "\(info.devnode)"])
        case .problem(let message):
            board.problem(message)
            logger.warning("problem: \(message)")
        }
    }
}

/// A flag the shutdown handler sets and the watcher's thread reads.
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}

/// A reload asked for (SIGHUP) and not yet taken by the scanner watcher.
final class ReloadRequest: Sendable {
    private let pending = Atomic<Bool>(false)
    private let wakeSignal = Mutex<WakeSignal?>(nil)

    var wake: WakeSignal? {
        get { wakeSignal.withLock { $0 } }
        set { wakeSignal.withLock { $0 = newValue } }
    }

    var isPending: Bool { pending.load(ordering: .acquiring) }

    /// Asks the watcher to restart with fresh settings, waking it if it sleeps.
    func request() {
        pending.store(true, ordering: .releasing)
        wake?.signal()
    }

    /// Consumes the request; false when none was pending.
    func take() -> Bool { pending.exchange(false, ordering: .acquiringAndReleasing) }
}
