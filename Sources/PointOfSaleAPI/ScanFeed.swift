import Foundation
import Synchronization

/// Scans as they happen, for every listener of the server-sent event stream (`GET /v1/scans`): the
/// POS application learns who is at the till. Each listener has a bounded buffer (a slow one misses
/// old scans, never blocks the scanner), and the number of listeners is bounded.
public final class ScanFeed: Sendable {
    /// Scans kept for a listener that has not read them yet, and for a listener resuming with
    /// `Last-Event-ID`; older ones are dropped first.
    public static let bufferedScansPerListener = 32
    public static let maximumListeners = 16

    /// One scan with its number (the event id: rising from 1 while the agent runs).
    struct Event: Sendable {
        var id: Int
        var json: String
    }

    private struct State {
        var listeners: [UUID: AsyncStream<Event>.Continuation] = [:]
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

    /// A stream of scans from now on — and first the kept scans numbered after `lastEventId`, for a
    /// listener that reconnects; nil when the listener limit is reached.
    func subscribe(after lastEventId: Int?) -> AsyncStream<Event>? {
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(Self.bufferedScansPerListener))
        let id = UUID()
        let added = state.withLock { state -> Bool in
            guard state.listeners.count < Self.maximumListeners else { return false }
            if let lastEventId {
                for event in state.recent where event.id > lastEventId { continuation.yield(event) }
            }
            state.listeners[id] = continuation
            return true
        }
        guard added else { return nil }
        continuation.onTermination = { [weak self] _ in _ = self?.state.withLock { $0.listeners.removeValue(forKey: id) } }
        return stream
    }

    /// Ends every stream (the daemon stops).
    public func finish() {
        let listeners = state.withLock { state -> [AsyncStream<Event>.Continuation] in
            defer { state.listeners.removeAll() }
            return Array(state.listeners.values)
        }
        for listener in listeners { listener.finish() }
    }

    public var listenerCount: Int { state.withLock { $0.listeners.count } }
}
