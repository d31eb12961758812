import Foundation
import TestSupport
import Testing

@testable import LedgerStore
@testable import LoyaltyCore

/// A card the till meets without knowing it (a scan's look-up, `member`, a redemption) is noted for the next sync,
/// which asks head office for its member; a known card, or a sale, notes nothing.
@Suite struct CardsToAskTests {
    @Test func unknownCardsMetAtTheTillAreNotedOnceAndForgottenWhenAsked() throws {
        let folder = TemporaryFolder()
        let ledger = try LedgerDatabase(path: folder.file("ledger.db"))
        let known = try CardNumber(GTIN.withCheckDigit("290000088001"))
        let scanned = try CardNumber(GTIN.withCheckDigit("290000088002"))
        let looked = try CardNumber(GTIN.withCheckDigit("290000088003"))
        let redeemed = try CardNumber(GTIN.withCheckDigit("290000088004"))
        let sold = try CardNumber(GTIN.withCheckDigit("290000088005"))
        _ = try ledger.enroll(card: known, name: nil, birthday: nil)

        #expect(try ledger.lookup(card: known) != nil)
        #expect(try ledger.lookup(card: scanned) == nil)
        #expect(try ledger.lookup(card: scanned) == nil, "a second scan notes nothing more")
        #expect { try ledger.member(card: looked) } throws: { ($0 as? LoyaltyError)?.code == "unknown_card" }
        #expect {
            try ledger.redeem(card: redeemed, points: 5, receipt: ReceiptReference("R-1"))
        } throws: { ($0 as? LoyaltyError)?.code == "unknown_card" }
        _ = try ledger.award(
            card: sold, amount: Money(minorUnits: 1_000, currency: .euro), receipt: ReceiptReference("S-1"),
            provisionalIfUnknown: true)

        let noted = try ledger.cardsToAsk(limit: 100)
        #expect(Set(noted) == [scanned.value, looked.value, redeemed.value], "\(noted)")
        #expect(try ledger.cardsToAsk(limit: 2).count == 2)
        try ledger.forgetCardsToAsk(noted)
        #expect(try ledger.cardsToAsk(limit: 100).isEmpty)
        #expect(try ledger.verify().ok)
    }
}
