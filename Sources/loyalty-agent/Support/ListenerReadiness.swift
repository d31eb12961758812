import Synchronization

/// Says "ready" once every listener of `run` is bound: a port taken by another program (the hub's, say) stops
/// start-up with exit 3 before anything told the POS or systemd that the agent serves.
final class ListenerReadiness: Sendable {
    private struct State {
        var pendingListeners: Int
        var lines: [(order: Int, text: String)] = []
    }
    private let state: Mutex<State>
    private let whenAllBound: @Sendable ([String]) -> Void

    /// `listeners` binds expected; `whenAllBound` gets their lines in `order`, once.
    init(listeners: Int, whenAllBound: @escaping @Sendable ([String]) -> Void) {
        precondition(listeners > 0, "a run serves at least the POS API")
        state = Mutex(State(pendingListeners: listeners))
        self.whenAllBound = whenAllBound
    }

    /// One listener is bound; `line` is what it prints, `order` where among the others.
    func bound(order: Int, line: String) {
        let complete: [String]? = state.withLock { state in
            state.lines.append((order, line))
            state.pendingListeners -= 1
            guard state.pendingListeners == 0 else { return nil }
            return state.lines.sorted { $0.order < $1.order }.map(\.text)
        }
        if let complete { whenAllBound(complete) }
    }
}
