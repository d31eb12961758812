import NIOCore
import Synchronization

/// Head office's open connections, by client address, with what each is doing: the registry decides
/// which connection to close when a limit is reached.
final class ConnectionRegistry: Sendable {
    struct Connection {
        var client: String
        var channel: any Channel
        /// Opened, or its last response finished, this many nanoseconds after an arbitrary origin.
        var waitingSinceNanoseconds: UInt64
        /// A request is being handled (it arrived in full): such a connection is never evicted.
        var busy: Bool
    }

    let limits: ConnectionLimits
    private let state = Mutex<(connections: [ObjectIdentifier: Connection], perClient: [String: Int])>(([:], [:]))

    init(limits: ConnectionLimits) { self.limits = limits }

    var count: Int { state.withLock { $0.connections.count } }

    /// Registers a new connection. Returns the connection to close to stay within the limits: the one
    /// waiting longest for its request (the new one itself if every other is busy), or nil.
    func open(_ id: ObjectIdentifier, client: String, channel: any Channel, nowNanoseconds: UInt64) -> (any Channel)? {
        state.withLock { state in
            state.connections[id] = Connection(
                client: client, channel: channel, waitingSinceNanoseconds: nowNanoseconds, busy: false)
            state.perClient[client, default: 0] += 1
            let overClient = state.perClient[client, default: 0] > limits.maximumConnectionsPerClient
            let overTotal = state.connections.count > limits.maximumConnections
            guard overClient || overTotal else { return nil }
            let candidates = state.connections.filter { !$0.value.busy && (!overClient || $0.value.client == client) }
            let oldest = candidates.min { $0.value.waitingSinceNanoseconds < $1.value.waitingSinceNanoseconds }
            return (oldest?.value.channel) ?? channel
        }
    }

    func setBusy(_ id: ObjectIdentifier, _ busy: Bool, nowNanoseconds: UInt64) {
        state.withLock { state in
            state.connections[id]?.busy = busy
            if !busy { state.connections[id]?.waitingSinceNanoseconds = nowNanoseconds }
        }
    }

    func close(_ id: ObjectIdentifier) {
        state.withLock { state in
            guard let connection = state.connections.removeValue(forKey: id) else { return }
            let remaining = state.perClient[connection.client, default: 1] - 1
            state.perClient[connection.client] = remaining > 0 ? remaining : nil
        }
    }
}
