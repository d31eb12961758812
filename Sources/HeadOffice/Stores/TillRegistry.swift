import Foundation
import LoyaltyCore
import SyncProtocol
import Synchronization

/// The tills of stores with several (`0042.3`): each signs with a secret derived from its store's, and
/// joins head office at its first signed request, so `loyalty-hq stores add 0042` is all a store needs
/// however many tills it has. A till's ledger is a row of its own (mark, sequence, last contact);
/// revoking the store, or the one till, refuses it.
final class TillRegistry: Sendable {
    /// Ledgers known to have their row, so a request costs no extra lookup. Bounded.
    private let joined = Mutex<Set<String>>([])
    static let maximumRemembered = 100_000

    /// What a ledger may sign with: a store's own secrets, or a till's derived from its store's.
    func credentials(ledgerName: String, in store: any HeadOfficeStore, now: Date) async throws -> StoreCredentials? {
        guard let identity = TillIdentity(ledgerName: ledgerName), let till = identity.till else {
            return try await store.credentials(storeId: ledgerName, now: now)
        }
        guard let storeCredentials = try await store.credentials(storeId: identity.storeId, now: now) else {
            return nil
        }
        let own = try await store.credentials(storeId: ledgerName, now: now)
        return StoreCredentials(
            secrets: storeCredentials.secrets.map { RequestSigning.tillSecret(storeSecret: $0, till: till) },
            revoked: storeCredentials.revoked || own?.revoked == true)
    }

    /// Registers a till's ledger the first time it is seen (after its signature was verified).
    func joinIfNew(ledgerName: String, in store: any HeadOfficeStore, now: Date) async throws {
        guard let identity = TillIdentity(ledgerName: ledgerName), let till = identity.till else { return }
        if joined.withLock({ $0.contains(ledgerName) }) { return }
        if try await store.credentials(storeId: ledgerName, now: now) == nil {
            guard let storeSecret = try await store.credentials(storeId: identity.storeId, now: now)?.secrets.first
            else { return }
            do {
                try await store.addStore(
                    id: ledgerName, secret: RequestSigning.tillSecret(storeSecret: storeSecret, till: till), now: now)
            } catch let refusal as IngestRefusal where refusal.kind == .storeExists {
                // Another process registered it a moment ago.
            }
        }
        joined.withLock {
            if $0.count >= Self.maximumRemembered { $0.removeAll(keepingCapacity: true) }
            $0.insert(ledgerName)
        }
    }
}
