import Foundation
public import LedgerStore
import LoyaltyCore
import Metrics

public import class Prometheus.PrometheusCollectorRegistry
import struct Prometheus.PrometheusMetricsFactory

/// The daemon's metrics (swift-metrics, exported by swift-prometheus on `GET /metrics`): scans by
/// outcome, awards, redemptions, refunds, feedback answers, sync backlog, errors and last success,
/// scanner attach/detach (``ScannerBoard``).
///
/// swift-metrics binds a metric to the backend when the metric is made, so ``bootstrap()`` runs
/// before any of them; before it (in the CLI and in tests) they count nothing.
public struct AgentMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let awards = Counter(label: "loyalty_awards_total")
    let redemptions = Counter(label: "loyalty_redemptions_total")
    let refunds = Counter(label: "loyalty_refunds_total")
    let feedbackAnswers = Counter(label: "loyalty_feedback_answers_total")
    let syncErrors = Counter(label: "loyalty_sync_errors_total")
    let syncBacklog = Gauge(label: "loyalty_sync_backlog_entries")
    let lastSyncSuccess = Gauge(label: "loyalty_sync_last_success_timestamp_seconds")
    private let scanCounters: [String: Metrics.Counter]

    /// Every outcome a scan can have: a member card, or one of the rejection reasons.
    public static let scanOutcomes = ["member"] + ScanRejection.allCases.map(\.rawValue)

    /// Makes the Prometheus registry the process's metrics backend. Once per process.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        var counters: [String: Metrics.Counter] = [:]
        for outcome in Self.scanOutcomes {
            counters[outcome] = Counter(label: "loyalty_scans_total", dimensions: [("outcome", outcome)])
        }
        scanCounters = counters
    }

    /// Counts one scan: `member`, or the reason it was rejected.
    public func scanned(outcome: String) {
        scanCounters[outcome]?.increment()
    }

    public func syncFailed() { syncErrors.increment() }

    /// The text exposition, with the sync figures read from the ledger now (the CLI may have
    /// written entries or synced since the last scrape).
    func exposition(ledger: LedgerDatabase) -> String {
        if let health = try? ledger.syncHealth() {
            syncBacklog.record(health.backlog)
            if let success = health.lastSuccess { lastSyncSuccess.record(success.timeIntervalSince1970.rounded()) }
        }
        return registry.emitToString()
    }
}
