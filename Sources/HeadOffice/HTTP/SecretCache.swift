import Foundation
import Synchronization

/// Store secrets for a short while, so a signed request costs no extra database round trip.
/// Bounded; unknown stores are not cached (a store registered a moment ago works at once).
final class SecretCache: Sendable {
    private let entries = Mutex<[String: (secret: String, fetchedAt: Date)]>([:])
    let lifetimeSeconds: TimeInterval
    let maximumEntries: Int

    init(lifetimeSeconds: TimeInterval = 60, maximumEntries: Int = 10_000) {
        self.lifetimeSeconds = lifetimeSeconds
        self.maximumEntries = maximumEntries
    }

    func secret(storeId: String, now: Date, load: (String) async throws -> String?) async throws -> String? {
        if let cached = entries.withLock({ $0[storeId] }), now.timeIntervalSince(cached.fetchedAt) < lifetimeSeconds {
            return cached.secret
        }
        guard let secret = try await load(storeId) else { return nil }
        entries.withLock { entries in
            if entries.count >= maximumEntries { entries.removeAll(keepingCapacity: true) }
            entries[storeId] = (secret, now)
        }
        return secret
    }
}
