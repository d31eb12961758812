public import Foundation

/// The daemon's sync loop: sync, then wait; on failure back off exponentially with full jitter up
/// to a cap. Stops when the task is cancelled.
public struct SyncLoop: Sendable {
    public let client: SyncClient
    public var intervalSeconds: Double
    public var initialBackoffSeconds: Double
    public var maximumBackoffSeconds: Double
    /// How the loop waits (throws when cancelled). The daemon waits on an NIO timer rather than
    /// `Task.sleep`, which on Linux starts Dispatch's worker pool and its once-a-second monitor.
    public var sleep: @Sendable (_ milliseconds: Int64) async throws -> Void = { try await Task.sleep(for: .milliseconds($0)) }

    public init(client: SyncClient, intervalSeconds: Double = 30, initialBackoffSeconds: Double = 1, maximumBackoffSeconds: Double = 300) {
        precondition(intervalSeconds > 0 && initialBackoffSeconds > 0 && maximumBackoffSeconds >= initialBackoffSeconds)
        self.client = client
        self.intervalSeconds = intervalSeconds
        self.initialBackoffSeconds = initialBackoffSeconds
        self.maximumBackoffSeconds = maximumBackoffSeconds
    }

    /// The wait before retry number `attempt` (1-based): uniformly random in 0...min(cap, base·2^(attempt-1)).
    public func backoffSeconds(attempt: Int, using random: inout some RandomNumberGenerator) -> Double {
        let exponent = min(attempt - 1, 30)
        let ceiling = min(maximumBackoffSeconds, initialBackoffSeconds * pow(2, Double(exponent)))
        return Double.random(in: 0...ceiling, using: &random)
    }

    public func run(onReport: @Sendable (Result<SyncReport, any Error>) -> Void) async {
        var failures = 0
        var random = SystemRandomNumberGenerator()
        while !Task.isCancelled {
            let wait: Double
            do {
                onReport(.success(try await client.syncOnce()))
                failures = 0
                wait = intervalSeconds
            } catch {
                onReport(.failure(error))
                failures += 1
                wait = backoffSeconds(attempt: failures, using: &random)
            }
            try? await sleep(Int64(wait * 1000))
        }
    }
}
