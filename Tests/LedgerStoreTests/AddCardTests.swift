import Foundation
import TestSupport
import Testing

@testable import LedgerStore
@testable import LoyaltyCore

/// Adding a card at the till (`cards add NEW EXISTING`) goes through a member this till knows.
@Suite struct AddCardTests {
    /// Found by the chain simulation: a card this till knows only from a sale (provisional, never enrolled
    /// here) took an added card, and head office then held the two as one unknown member it could not join
    /// to the member the first card had been added to at another store: that member's points were split.
    @Test func aCardKnownOnlyFromSalesTakesNoAddedCard() throws {
        let folder = TemporaryFolder()
        let ledger = try LedgerDatabase(path: folder.file("ledger.db"))
        let sold = try CardNumber(GTIN.withCheckDigit("290000077001"))
        let phone = try CardNumber(GTIN.withCheckDigit("290000077002"))
        _ = try ledger.award(
            card: sold, amount: Money(minorUnits: 1_000, currency: .euro), receipt: ReceiptReference("P-1"), provisionalIfUnknown: true)
        let before = try ledger.outbox(after: nil, limit: 100).count
        #expect {
            try ledger.addCard(phone, toMemberOf: sold)
        } throws: { ($0 as? LoyaltyError)?.code == "provisional_member" }
        #expect(try ledger.lookup(card: phone) == nil, "the refused card is not held by anyone here")
        #expect(try ledger.outbox(after: nil, limit: 100).count == before, "nothing was written")
        // Once the card is enrolled here, it takes cards as any member does.
        let member = try CardNumber(GTIN.withCheckDigit("290000077003"))
        _ = try ledger.enroll(card: member, name: nil, birthday: nil)
        #expect(try ledger.addCard(phone, toMemberOf: member).cards.contains(phone.value))
        #expect(try ledger.verify().ok)
    }
}
