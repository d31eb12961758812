import Foundation
import HeadOffice
import LedgerStore
import LoyaltyCore
import SyncProtocol
import TestSupport
import Testing

@testable import SyncClient

/// The pull a cashier waits for (before an enrolment, an added card, a return of another store's sale) applies all
/// of head office's pages or none: found by attack, a pull cut after its first page at a till of a store with a hub
/// counted another till's sale twice (in the new snapshot and from the hub) until the next whole pull.
@Suite struct LearningPullTests {
    @Test(arguments: Driver.allCases)
    func aPullCutShortAppliesNothingAndAWholeOneAppliesEverything(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            for id in ["A", "B"] { try await store.addStore(id: id, secret: id, now: Date()) }
            try await Harness.withServer(store) { base in
                let folder = TemporaryFolder()
                let ledger = try LedgerDatabase(path: folder.file("a.db"))
                let client = SyncClient(
                    ledger: ledger, settings: SyncSettings(headOfficeURL: base, storeId: "A", secret: "A"))
                _ = try await client.syncOnce()
                // Three batches of 300 new members at store B: more than one page (500 members, a version whole).
                let cards = (0..<900).map { GTIN.withCheckDigit(String(format: "2907%08d", $0)) }
                for batch in 0..<3 {
                    let entries = (0..<300).map { index in
                        Harness.entry(Int64(batch * 300 + index + 1), card: cards[batch * 300 + index], points: 5)
                    }
                    _ = try await store.ingest(
                        storeId: "B", batch: PushBatch(entries: entries, backlog: 0), nonce: nil, now: Date())
                }
                let before = try ledger.syncPosition().cursor
                try await client.pullWhole(maximumPages: 1)
                #expect(try ledger.syncPosition().cursor == before, "a pull that could not finish applied a page")
                #expect(try ledger.lookup(card: CardNumber(cards[0])) == nil)

                try await client.learnMembersIfUnknown(cards: [try CardNumber(cards[899])])
                for card in [cards[0], cards[450], cards[899]] {
                    #expect(try ledger.lookup(card: CardNumber(card))?.balance == 5, "\(card)")
                }
                #expect(try ledger.syncPosition().cursor > before)
            }
        }
    }
}
