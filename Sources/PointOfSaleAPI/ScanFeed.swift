import Foundation
import NIOCore
import Synchronization

/// Scans as they happen, for every listener of the server-sent event stream (`GET /v1/scans`): the
/// POS application learns who is at the till. Each listener has a bounded buffer (a slow one misses
/// old scans, never blocks the scanner), and the number of listeners is bounded.
///
/// A client that goes away is noticed only when a write to it fails (the HTTP server does not read a
/// connection while its response is in flight), so each stream carries a heartbeat every
/// ``heartbeatSeconds``, and a new listener beyond the limit ends the oldest stream instead of being
/// refused: a kiosk that reconnects always gets its stream back, and an ended client that is still
/// there reconnects with `Last-Event-ID` and misses nothing that was kept.
public final class ScanFeed: Sendable {
    /// Scans kept for a listener that has not read them yet, and for a listener resuming with
    /// `Last-Event-ID`; older ones are dropped first.
    public static let bufferedScansPerListener = 32
    public static let maximumListeners = 16
    /// Seconds between heartbeats (an SSE comment) on each stream, while it has listeners.
    public static let heartbeatSeconds = 10

    /// A heartbeat's event id: no scan has it.
    static let heartbeatId = 0

    /// One scan with its number (the event id: rising from 1 while the agent runs).
    struct Event: Sendable {
        var id: Int
        var json: String
    }

    private struct State {
        var listeners: [UUID: AsyncStream<Event>.Continuation] = [:]
        /// Listener ids, oldest first.
        var order: [UUID] = []
        var recent: [Event] = []
        var lastId = 0
    }

    private let state = Mutex(State())
    /// This daemon run's id: event ids restart at 1 with each run, so (run, id) names one scan.
    public let runId = String(UUID().uuidString.prefix(8)).lowercased()

    public init() {}

    /// Sends one scan, already encoded as a JSON object, to every listener.
    public func publish(_ json: String) {
        let (event, listeners) = state.withLock { state -> (Event, [AsyncStream<Event>.Continuation]) in
            state.lastId += 1
            let event = Event(id: state.lastId, json: json)
            state.recent.append(event)
            if state.recent.count > Self.bufferedScansPerListener { state.recent.removeFirst(state.recent.count - Self.bufferedScansPerListener) }
            return (event, Array(state.listeners.values))
        }
        for listener in listeners { listener.yield(event) }
    }

    /// The card of scan `eventId` when it is the latest scan that showed a member (nil otherwise: an
    /// older scan, a rejection, none kept). The kiosk's feedback tap answers for that card only.
    func latestMemberCard(eventId: Int) -> String? {
        guard
            let event = state.withLock({ state in
                state.recent.last { $0.json.contains(#""status":"member""#) }
            }), event.id == eventId,
            let object = try? JSONSerialization.jsonObject(with: Data(event.json.utf8)) as? [String: Any],
            object["status"] as? String == "member"
        else { return nil }
        return object["card"] as? String
    }

    /// A stream of scans from now on — and first the kept scans numbered after `lastEventId`, for a
    /// listener that reconnects. At the listener limit the oldest stream ends to make room. The stream
    /// also ends when `connectionClosed` completes (where the server can tell).
    func subscribe(after lastEventId: Int?, until connectionClosed: EventLoopFuture<Void>? = nil) -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(Self.bufferedScansPerListener))
        let id = UUID()
        let evicted = state.withLock { state -> AsyncStream<Event>.Continuation? in
            var evicted: AsyncStream<Event>.Continuation?
            if state.listeners.count >= Self.maximumListeners, let oldest = state.order.first {
                state.order.removeFirst()
                evicted = state.listeners.removeValue(forKey: oldest)
            }
            if let lastEventId {
                for event in state.recent where event.id > lastEventId { continuation.yield(event) }
            }
            state.listeners[id] = continuation
            state.order.append(id)
            return evicted
        }
        evicted?.finish()
        let heartbeat = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(Self.heartbeatSeconds))
                continuation.yield(Event(id: Self.heartbeatId, json: ""))
            }
        }
        continuation.onTermination = { [weak self] _ in
            heartbeat.cancel()
            self?.state.withLock { state in
                state.listeners.removeValue(forKey: id)
                state.order.removeAll { $0 == id }
            }
        }
        connectionClosed?.whenComplete { _ in continuation.finish() }
        return stream
    }

    /// Ends every stream (the daemon stops).
    public func finish() {
        let listeners = state.withLock { state -> [AsyncStream<Event>.Continuation] in
            defer {
                state.listeners.removeAll()
                state.order.removeAll()
            }
            return Array(state.listeners.values)
        }
        for listener in listeners { listener.finish() }
    }

    public var listenerCount: Int { state.withLock { $0.listeners.count } }
}
