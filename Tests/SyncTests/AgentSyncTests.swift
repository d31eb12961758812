import TestSupport
import Foundation
import HeadOffice
import LedgerStore
import LoyaltyCore
import SyncClient
import SyncProtocol
import Testing

/// The agent's SyncClient against a real head office over HTTP: push, pull, cross-store
/// redemption, blocked cards, resend after head office lost data.
@Suite struct AgentSyncTests {
    struct Till: Sendable {
        let folder = TemporaryFolder()
        let ledger: LedgerDatabase
        let client: SyncClient
        init(_ storeId: String, secret: String, base: URL, batchSize: Int = 500) throws {
            ledger = try LedgerDatabase(path: folder.file("\(storeId).db"), creating: .init(storeId: storeId))
            client = SyncClient(ledger: ledger, settings: SyncSettings(headOfficeURL: base, storeId: storeId, secret: secret, batchMaximumEntries: batchSize))
        }
    }

    let card = try! CardNumber("2900000777774")
    func money(_ text: String) -> Money { try! Money(parsing: text, currency: .euro) }

    @Test(arguments: Driver.allCases)
    func aMemberWhoEarnedAtStoreACanRedeemAtStoreBAfterBothSynced(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "sa", now: Date())
            try await store.addStore(id: "B", secret: "sb", now: Date())
            try await Harness.withServer(store) { base in
                let a = try Till("A", secret: "sa", base: base, batchSize: 7)
                let b = try Till("B", secret: "sb", base: base)
                _ = try a.ledger.enroll(card: card, name: "Ana", birthday: nil)
                for index in 0..<20 { _ = try a.ledger.award(card: card, amount: money("10.00"), receipt: ReceiptReference("A\(index)")) }
                // B does not know the card yet.
                #expect(throws: LoyaltyError.self) { try b.ledger.redeem(card: card, points: 50, receipt: ReceiptReference("B1")) }

                let pushed = try await a.client.syncOnce()
                // The enrolment and 20 sales.
                #expect(pushed.pushedEntries == 21 && pushed.batches == 3 && pushed.backlog == 0 && pushed.acknowledgedSeq == 21)
                #expect(try a.ledger.status().unsyncedEntries == 0)
                _ = try await b.client.syncOnce()
                #expect(try b.ledger.lookup(card: card)?.balance == 200)
                let redeemed = try b.ledger.redeem(card: card, points: 150, receipt: ReceiptReference("B1"))
                #expect(redeemed.balance == 50)
                #expect(throws: LoyaltyError.self) { try b.ledger.redeem(card: card, points: 51, receipt: ReceiptReference("B2")) }
                _ = try await b.client.syncOnce()
                _ = try await a.client.syncOnce()
                #expect(try await store.member(card: card.value, now: Date())?.balance == 50)
                #expect(try a.ledger.member(card: card).balance == 50)
                #expect(try a.ledger.member(card: card).localBalance == 200)
                #expect(try a.ledger.verify().ok && b.ledger.verify().ok)

                // A lost card blocked at head office is refused at the till after the next sync.
                try await store.blockCard(card.value, now: Date())
                _ = try await b.client.syncOnce()
                #expect(try b.ledger.lookup(card: card)?.cardStatus == "blocked")
                #expect(throws: LoyaltyError.self) { try b.ledger.award(card: card, amount: money("5"), receipt: ReceiptReference("B3")) }

                // Sync is idempotent: again, nothing moves.
                let again = try await a.client.syncOnce()
                #expect(again.pushedEntries == 0 && again.batches == 0)
            }
        }
    }

    @Test func storesStillWorkWhenHeadOfficeIsUnreachableAndCatchUpLater() async throws {
        let till = try Till("A", secret: "sa", base: URL(string: "http://127.0.0.1:9")!)
        _ = try till.ledger.enroll(card: card, name: nil, birthday: nil)
        _ = try till.ledger.award(card: card, amount: money("12.00"), receipt: ReceiptReference("R1"))
        await #expect(throws: SyncFailure.self) { try await till.client.syncOnce() }
        let status = try till.ledger.status()
        #expect(status.unsyncedEntries == 2 && status.lastSyncError != nil && status.lastSyncSuccess == nil)
        // Offline: the redemption cap applies; the sale itself never needed the network.
        #expect(throws: LoyaltyError.self) { try till.ledger.redeem(card: card, points: 10, receipt: ReceiptReference("R2"), offlineCap: 5) }
        _ = try till.ledger.redeem(card: card, points: 5, receipt: ReceiptReference("R3"), offlineCap: 5)
    }

    @Test func headOfficeThatLostEntriesGetsThemResent() async throws {
        // Head office A's database is replaced by an empty one (restored from an old backup).
        let first = TemporaryFolder()
        let till: Till
        do {
            let store = try SQLiteHeadOfficeStore(path: first.file("hq.db"))
            try await store.migrate()
            try await store.addStore(id: "A", secret: "sa", now: Date())
            till = try await Harness.withServer(store) { base in
                let till = try Till("A", secret: "sa", base: base)
                _ = try till.ledger.enroll(card: card, name: nil, birthday: nil)
                for index in 0..<5 { _ = try till.ledger.award(card: card, amount: money("3"), receipt: ReceiptReference("R\(index)")) }
                _ = try await till.client.syncOnce()
                return till
            }
        }
        #expect(try till.ledger.syncPosition().acknowledgedSeq == 6)
        let restored = try SQLiteHeadOfficeStore(path: first.file("restored.db"))
        try await restored.migrate()
        try await restored.addStore(id: "A", secret: "sa", now: Date())
        try await Harness.withServer(restored) { base in
            let again = SyncClient(ledger: till.ledger, settings: SyncSettings(headOfficeURL: base, storeId: "A", secret: "sa"))
            _ = try await again.syncOnce()  // learns head office's mark is 0
            let report = try await again.syncOnce()
            #expect(report.acknowledgedSeq == 6 && report.backlog == 0)
            #expect(try await restored.totals() == [StoreTotal(storeId: "A", entries: 6, points: 15)])
            // A card blocked after the restore reaches the store (its pull cursor came from the lost history).
            try await restored.blockCard(card.value, now: Date())
            _ = try await again.syncOnce()
            #expect(try till.ledger.lookup(card: card)?.cardStatus == "blocked")
        }
    }

    @Test func backoffIsExponentialJitteredAndCapped() throws {
        let till = try Till("A", secret: "sa", base: URL(string: "http://127.0.0.1:9")!)
        let loop = SyncLoop(client: till.client, intervalSeconds: 30, initialBackoffSeconds: 1, maximumBackoffSeconds: 60)
        var random = SeededRandom(seed: 1)
        for attempt in 1...40 {
            let ceiling = min(60, pow(2, Double(attempt - 1)))
            let waits = (0..<200).map { _ in loop.backoffSeconds(attempt: attempt, using: &random) }
            #expect(waits.allSatisfy { $0 >= 0 && $0 <= ceiling })
            #expect(Set(waits).count > 100, "no jitter")
        }
    }
}
