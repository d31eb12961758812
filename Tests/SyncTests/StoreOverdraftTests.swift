import Foundation
import HeadOffice
import LedgerStore
import LoyaltyCore
import StoreHub
import SyncClient
import TestSupport
import Testing

/// Head office's overdrafts for a store with several tills and a hub (found by attack: a redemption of points
/// earned at another till of the store reached head office first, and the member stayed "OVERDRAWN").
@Suite(.serialized) struct StoreOverdraftTests {
    let card = try! CardNumber("2900000777774")

    func withStore(
        _ driver: Driver, _ body: (any HeadOfficeStore, [AgentSyncTests.Till], LocalHubConnection) async throws -> Void
    )
        async throws
    {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "0042", secret: "s0042", now: Date())
            try await Harness.withServer(store) { base in
                let tills = try ["0042.1", "0042.2", "0042.3"].map {
                    try AgentSyncTests.Till($0, secret: "s0042", base: base)
                }
                let hub = LocalHubConnection(hub: HubService(ledger: tills[0].ledger))
                try await body(store, tills, hub)
            }
        }
    }

    /// The redemption at till 3 reaches head office before the sale at till 2 that earned its points: once the
    /// sale is there, no overdraft stands and the member is not flagged.
    @Test(arguments: Driver.allCases)
    func aRedemptionOfPointsEarnedAtAnotherTillIsNoOverdraftOnceTheSaleArrives(_ driver: Driver) async throws {
        try await withStore(driver) { store, tills, hub in
            let (two, three) = (tills[1], tills[2])
            _ = try two.ledger.enroll(card: card, name: "Ann", birthday: nil)
            _ = try two.ledger.award(
                card: card, amount: Money(minorUnits: 10_000, currency: .euro), receipt: ReceiptReference("R1"))
            _ = try await HubExchange(ledger: two.ledger, connection: hub).exchangeOnce()
            let atThree = HubRedemption(exchange: HubExchange(ledger: three.ledger, connection: hub))
            #expect(try await atThree.prepare(card: card, points: 60, receipt: ReceiptReference("X")))
            _ = try three.ledger.redeem(card: card, points: 60, receipt: ReceiptReference("X"))
            _ = try await three.client.syncOnce()
            #expect(try await store.member(card: card.value, now: Date())?.overdrawn == true, "recorded as it arrived")
            _ = try await two.client.syncOnce()
            let member = try #require(try await store.member(card: card.value, now: Date()))
            #expect(member.balance == 40 && !member.overdrawn)
            #expect(try await store.overdrafts().isEmpty)
        }
    }

    /// Two tills cut off from the hub each spend the same 60 of 100: one overdraft stands, whichever arrives first.
    @Test(arguments: Driver.allCases)
    func aRealDoubleSpendAtTwoTillsStaysAnOverdraft(_ driver: Driver) async throws {
        try await withStore(driver) { store, tills, hub in
            let (two, three) = (tills[1], tills[2])
            _ = try two.ledger.enroll(card: card, name: "Ann", birthday: nil)
            _ = try two.ledger.award(
                card: card, amount: Money(minorUnits: 10_000, currency: .euro), receipt: ReceiptReference("R1"))
            _ = try await HubExchange(ledger: two.ledger, connection: hub).exchangeOnce()
            _ = try await HubExchange(ledger: three.ledger, connection: hub).exchangeOnce()
            // The hub is gone: each till decides alone.
            _ = try three.ledger.redeem(card: card, points: 60, receipt: ReceiptReference("X"))
            _ = try two.ledger.redeem(card: card, points: 60, receipt: ReceiptReference("Y"))
            _ = try await three.client.syncOnce()
            _ = try await two.client.syncOnce()
            let member = try #require(try await store.member(card: card.value, now: Date()))
            #expect(member.balance == -20 && member.overdrawn)
            #expect(try await store.overdrafts().count == 1)
        }
    }
}
