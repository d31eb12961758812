import Foundation
import Synchronization

/// Store credentials for a short while, so a signed request costs no extra database round trip.
/// Bounded; unknown stores are not cached (a store registered a moment ago works at once). A rotation
/// or a revocation reaches every head-office process within ``lifetimeSeconds``.
final class SecretCache: Sendable {
    private let entries = Mutex<[String: (credentials: StoreCredentials, fetchedAt: Date)]>([:])
    let lifetimeSeconds: TimeInterval
    let maximumEntries: Int

    init(lifetimeSeconds: TimeInterval = 10, maximumEntries: Int = 10_000) {
        self.lifetimeSeconds = lifetimeSeconds
        self.maximumEntries = maximumEntries
    }

    func credentials(
        storeId: String, now: Date, load: (String) async throws -> StoreCredentials?
    ) async throws -> StoreCredentials? {
        if let cached = entries.withLock({ $0[storeId] }), now.timeIntervalSince(cached.fetchedAt) < lifetimeSeconds,
            now >= cached.fetchedAt
        {
            return cached.credentials
        }
        guard let credentials = try await load(storeId) else { return nil }
        entries.withLock { entries in
            if entries.count >= maximumEntries { entries.removeAll(keepingCapacity: true) }
            entries[storeId] = (credentials, now)
        }
        return credentials
    }
}
