public import Foundation
import Metrics
import Synchronization

/// What the daemon knows about the box's input devices, for the manager's page and the metrics:
/// attached scanners, keyboards that look like scanners but are not configured, and recent problems
/// in plain words. Bounded: at most ``maximumDevices`` devices and ``maximumProblems`` problems kept.
public final class ScannerBoard: Sendable {
    public static let maximumDevices = 64
    public static let maximumProblems = 10

    /// One device as the manager sees it.
    public struct Device: Codable, Hashable, Sendable {
        /// The stable id (USB serial or port path), not the event number.
        public var id: String
        public var node: String
        /// The device's name and USB id (`VID:PID`), as scanner.allow in agent.yaml takes it.
        public var name: String
        public var usbId: String?
        /// `configured-scanner`, `likely-scanner`, ...
        public var role: String
        public var layout: String?
        public var grabbed: Bool
        public var since: Date
    }

    /// A problem, kept until newer ones push it out.
    public struct Problem: Codable, Hashable, Sendable {
        public var message: String
        public var at: Date
    }

    private struct State {
        var attached: [String: Device] = [:]
        var likely: [String: Device] = [:]
        var problems: [Problem] = []
    }

    private let state = Mutex(State())
    private let attachedGauge = Gauge(label: "loyalty_scanners_attached")
    private let attaches = Counter(label: "loyalty_scanner_events_total", dimensions: [("event", "attached")])
    private let detaches = Counter(label: "loyalty_scanner_events_total", dimensions: [("event", "detached")])

    public init() {}

    public func attached(
        id: String, node: String, name: String, usbId: String?, role: String, layout: String, grabbed: Bool,
        at now: Date = Date()
    ) {
        let count = state.withLock { state -> Int in
            state.likely.removeValue(forKey: id)
            if state.attached[id] != nil || state.attached.count < Self.maximumDevices {
                state.attached[id] = Device(
                    id: id, node: node, name: name, usbId: usbId, role: role, layout: layout, grabbed: grabbed,
                    since: now)
            }
            return state.attached.count
        }
        attaches.increment()
        attachedGauge.record(count)
    }

    public func detached(id: String) {
        let count = state.withLock { state -> Int in
            state.attached.removeValue(forKey: id)
            state.likely.removeValue(forKey: id)
            return state.attached.count
        }
        detaches.increment()
        attachedGauge.record(count)
    }

    /// A keyboard that types like a scanner but matches no configured scanner (not grabbed).
    public func likelyScanner(id: String, node: String, name: String, usbId: String?, at now: Date = Date()) {
        state.withLock { state in
            guard state.likely[id] != nil || state.likely.count < Self.maximumDevices else { return }
            state.likely[id] = Device(
                id: id, node: node, name: name, usbId: usbId, role: "likely-scanner", layout: nil, grabbed: false,
                since: now)
        }
    }

    public func problem(_ message: String, at now: Date = Date()) {
        state.withLock { state in
            state.problems.append(Problem(message: message, at: now))
            if state.problems.count > Self.maximumProblems {
                state.problems.removeFirst(state.problems.count - Self.maximumProblems)
            }
        }
    }

    /// The scanners were set up again (SIGHUP): every device is attached afresh.
    public func reset() {
        state.withLock { state in
            state.attached.removeAll()
            state.likely.removeAll()
        }
        attachedGauge.record(0)
    }

    public var attachedScanners: [Device] { state.withLock { $0.attached.values.sorted { $0.id < $1.id } } }
    public var likelyScanners: [Device] { state.withLock { $0.likely.values.sorted { $0.id < $1.id } } }
    public var problems: [Problem] { state.withLock { $0.problems } }
}
