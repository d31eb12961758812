import Foundation
import Synchronization

/// Bounds password guessing on the dashboard: after ``maximumFailuresPerWindow`` wrong passwords within
/// ``windowSeconds``, every attempt (a right one too, or the answers would still tell a guess apart) is
/// answered 429 until the window ends. The operator waits a minute; a guesser gets 10 tries a minute
/// instead of thousands a second.
final class PasswordThrottle: Sendable {
    static let maximumFailuresPerWindow = 10
    static let windowSeconds: Double = 60

    private let state = Mutex<(windowStart: Double, failures: Int)>((0, 0))

    /// Seconds until attempts are heard again, or nil when they are heard now.
    func retryAfterSeconds(now: Date = Date()) -> Int? {
        state.withLock { state in
            let time = now.timeIntervalSince1970
            if time - state.windowStart >= Self.windowSeconds { state = (time, 0) }
            guard state.failures >= Self.maximumFailuresPerWindow else { return nil }
            return max(1, Int((state.windowStart + Self.windowSeconds - time).rounded(.up)))
        }
    }

    func recordFailure(now: Date = Date()) {
        state.withLock { state in
            let time = now.timeIntervalSince1970
            if time - state.windowStart >= Self.windowSeconds { state = (time, 0) }
            state.failures += 1
        }
    }
}
