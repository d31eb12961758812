import Foundation
import HeadOffice
import SyncProtocol
import Testing

/// Head office binds each store to one ledger file: recorded at the first batch, kept while the
/// store has entries, refused (409, nothing stored) when another ledger claims it.
@Suite struct LedgerBindingTests {
    @Test(arguments: Driver.allCases)
    func aSecondLedgerCannotWriteAStoreThatHasEntries(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "s", now: Date())
            try await store.addStore(id: "B", secret: "s", now: Date())
            // B's box was swapped before it sold anything: the new ledger simply takes over.
            _ = try await store.ingest(storeId: "B", batch: PushBatch(entries: [], backlog: 0, ledgerId: "box-1"), nonce: nil, now: Date())
            _ = try await store.ingest(
                storeId: "B", batch: PushBatch(entries: [Harness.entry(1)], backlog: 0, ledgerId: "box-2"), nonce: nil, now: Date())
            let first = PushBatch(entries: [Harness.entry(1), Harness.entry(2)], backlog: 0, ledgerId: "ledger-one")
            #expect(try await store.ingest(storeId: "A", batch: first, nonce: nil, now: Date()).acknowledgedSeq == 2)
            let intruder = PushBatch(entries: [Harness.entry(3)], backlog: 0, ledgerId: "ledger-two")
            do {
                _ = try await store.ingest(storeId: "A", batch: intruder, nonce: nil, now: Date())
                Issue.record("a second ledger wrote store A")
            } catch let refusal as IngestRefusal {
                #expect(refusal.kind == .ledgerConflict && refusal.message.contains("another ledger"))
            }
            // An agent from before ledger ids, and the bound ledger itself, still sync.
            #expect(try await store.ingest(storeId: "A", batch: PushBatch(entries: [Harness.entry(3)], backlog: 0), nonce: nil, now: Date()).acknowledgedSeq == 3)
            let owner = PushBatch(entries: [Harness.entry(4)], backlog: 0, ledgerId: "ledger-one")
            #expect(try await store.ingest(storeId: "A", batch: owner, nonce: nil, now: Date()).acknowledgedSeq == 4)
            #expect(try await store.totals().first { $0.storeId == "A" }?.entries == 4)
            #expect(try await store.totals().first { $0.storeId == "B" }?.entries == 1)
        }
    }
}
