import Foundation
import HeadOffice
import LedgerStore
import LoyaltyCore
import SyncClient
import SyncProtocol
import TestSupport
import Testing

/// A return at a till that already holds head office's correction of what the sale paid gives back what the
/// member still holds of it, not what the till once paid.
@Suite struct ReturnAfterCorrectionTests {
    func money(_ text: String) -> Money { try! Money(parsing: text, currency: .euro) }

    /// Found by attack: two offline tills both paid a member's first-purchase bonus; head office took one back
    /// and the till holding that correction then returned its sale in full: it took the bonus back a second time
    /// (the member shown 200 points short until the next sync). The oracle: the other sale still stands, so the
    /// member keeps one bonus.
    @Test(arguments: Driver.allCases, [false, true])
    func aFullReturnTakesNoBonusHeadOfficeAlreadyTookBack(_ driver: Driver, returnAtTheFirstTill: Bool) async throws {
        try await Harness.withStore(driver) { store in
            for id in ["A", "B"] { try await store.addStore(id: id, secret: "s", now: Date()) }
            _ = try await store.publishProgram(
                try ExpiryAndReferralTests.program(firstPurchase: 200), actor: "test", now: Date())
            try await Harness.withServer(store) { base in
                let a = try AgentSyncTests.Till("A", secret: "s", base: base)
                let b = try AgentSyncTests.Till("B", secret: "s", base: base)
                let card = try CardNumber(GTIN.withCheckDigit("290000093001"))
                _ = try a.ledger.enroll(card: card, name: "Ana", birthday: nil)
                for till in [a, b, a] { _ = try await till.client.syncOnce() }
                _ = try a.ledger.award(card: card, amount: money("30.00"), receipt: ReceiptReference("A-1"))
                _ = try b.ledger.award(card: card, amount: money("50.00"), receipt: ReceiptReference("B-1"))
                for till in [a, b, a] { _ = try await till.client.syncOnce() }
                // One bonus stands: 30 + 50 + 200.
                #expect(try await store.member(card: card.value, now: Date())?.balance == 280)
                let (till, receipt, kept): (AgentSyncTests.Till, String, Int64) =
                    returnAtTheFirstTill ? (a, "A-1", 250) : (b, "B-1", 230)
                let refund = try till.ledger.refund(receipt: ReceiptReference(receipt), amount: nil, returnReceipt: nil)
                #expect(refund.reversedBonusPoints == 0)
                #expect(try #require(try till.ledger.lookup(card: card)).balance == kept)
                for till in [a, b, a, b] { _ = try await till.client.syncOnce() }
                #expect(try await store.member(card: card.value, now: Date())?.balance == kept)
                for till in [a, b] { #expect(try #require(try till.ledger.lookup(card: card)).balance == kept) }
            }
        }
    }
}
