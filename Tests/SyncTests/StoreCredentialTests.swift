import Foundation
import HeadOffice
import SyncProtocol
import TestSupport
import Testing

/// Store secrets rotate without downtime and a store can be revoked, on both drivers, checked through
/// real signed HTTP requests (a new server for each step: its credential cache starts empty).
@Suite struct StoreCredentialTests {
    func pull(_ base: URL, secret: String) async throws -> (status: Int, body: [String: Any]) {
        try await Harness.request(
            base, method: .GET, path: "/v1/stores/A/updates?since=0", storeId: "A", secret: secret)
    }

    @Test(arguments: Driver.allCases)
    func aRotatedSecretOverlapsWithThePreviousOneUntilItsTime(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            let old = RequestSigning.newSecret()
            let new = RequestSigning.newSecret()
            let now = Date()
            try await store.addStore(id: "A", secret: old, now: now)
            try await store.rotateSecret(storeId: "A", secret: new, overlapSeconds: 3600, actor: "ops", now: now)
            // Within the overlap both secrets sign; a wrong one does not.
            try await Harness.withServer(store, clock: { now.addingTimeInterval(60) }) { base in
                let previous = try await pull(base, secret: old)
                let current = try await pull(base, secret: new)
                let wrong = try await pull(base, secret: RequestSigning.newSecret())
                #expect(previous.status == 200, "the previous secret, within the overlap: \(previous)")
                #expect(current.status == 200, "the new secret: \(current)")
                #expect(wrong.status == 401)
            }
            let later = now.addingTimeInterval(3601)
            #expect(try await store.credentials(storeId: "A", now: later)?.secrets == [new], "the overlap ran out")
            // Overlap 0: a leaked secret is refused at once.
            let newest = RequestSigning.newSecret()
            try await store.rotateSecret(storeId: "A", secret: newest, overlapSeconds: 0, actor: "ops", now: later)
            #expect(try await store.credentials(storeId: "A", now: later)?.secrets == [newest])
            await #expect(throws: IngestRefusal.self) {
                try await store.rotateSecret(
                    storeId: "nope", secret: newest, overlapSeconds: 0, actor: "ops", now: later)
            }
            let audit = try await store.auditTrail().map(\.action)
            #expect(audit.filter { $0 == "stores rotate-secret" }.count == 2, "\(audit)")
        }
    }

    @Test(arguments: Driver.allCases)
    func aRevokedStoreIsRefusedWhateverItSigns(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            let secret = RequestSigning.newSecret()
            try await store.addStore(id: "A", secret: secret, now: Date())
            try await store.revokeStore(storeId: "A", actor: "ops", reason: "till stolen", now: Date())
            try await Harness.withServer(store) { base in
                let refused = try await pull(base, secret: secret)
                #expect(refused.status == 401 && refused.body["error"] as? String == "store_revoked", "\(refused)")
                let push = try await Harness.request(
                    base, method: .POST, path: "/v1/stores/A/batches",
                    body: Harness.json(PushBatch(entries: [Harness.entry(1)], backlog: 0)), storeId: "A",
                    secret: secret)
                #expect(push.status == 401, "nothing is written")
            }
            #expect(try await store.totals().isEmpty)
            await #expect(throws: IngestRefusal.self) {
                try await store.rotateSecret(storeId: "A", secret: secret, overlapSeconds: 0, actor: "ops", now: Date())
            }
            let audit = try await store.auditTrail()
            #expect(audit.contains { $0.action == "stores revoke" && $0.reason == "till stolen" && $0.actor == "ops" })
        }
    }
}
