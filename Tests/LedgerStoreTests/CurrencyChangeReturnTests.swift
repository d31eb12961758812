import Foundation
import TestSupport
import Testing

@testable import LedgerStore
@testable import LoyaltyCore

/// A chain that changes its program's currency (a country joining the euro): receipts from before still
/// name the old currency. Found by review: a partial return of such a sale compared its amount, typed in
/// the new currency, with the sale's amount in the old one, and took back the wrong points.
@Suite struct CurrencyChangeReturnTests {
    static func switchedLedger(_ folder: TemporaryFolder) throws -> (LedgerDatabase, CardNumber) {
        let ledger = try LedgerDatabase(path: folder.file("ledger.db"))
        let card = try CardNumber(GTIN.withCheckDigit("290000066001"))
        _ = try ledger.enroll(card: card, name: nil, birthday: nil)
        _ = try ledger.award(card: card, amount: Money(minorUnits: 75_000, currency: .euro), receipt: ReceiptReference("OLD-1"))
        var kuna = LoyaltyProgram.standard()
        kuna.version = 2
        kuna.validFromMilliseconds = 0
        kuna.currency = try Currency.named("HRK")
        let document = String(decoding: try JSONEncoder().encode(kuna), as: UTF8.self)
        try ledger.applyHeadOfficeUpdates(members: [], blockedCards: [], cursor: 0, programs: [(version: 2, document: document)])
        return (ledger, card)
    }

    @Test func aPartialReturnAfterTheCurrencyChangedIsRefusedAndWritesNothing() throws {
        let folder = TemporaryFolder()
        let (ledger, card) = try Self.switchedLedger(folder)
        let before = try ledger.member(card: card).balance
        #expect {
            try ledger.refund(
                receipt: ReceiptReference("OLD-1"), amount: Money(minorUnits: 10_000, currency: try Currency.named("HRK")),
                returnReceipt: ReceiptReference("R-1"))
        } throws: { error in
            let error = error as? LoyaltyError
            return error?.code == "wrong_currency" && error?.message.contains("EUR") == true
        }
        #expect(try ledger.member(card: card).balance == before)
        #expect(try ledger.verify().ok)
    }

    @Test func theWholeSaleCanStillBeReturnedInItsOwnCurrency() throws {
        let folder = TemporaryFolder()
        let (ledger, card) = try Self.switchedLedger(folder)
        let earned = try ledger.member(card: card).balance
        let result = try ledger.refund(receipt: ReceiptReference("OLD-1"), amount: nil, returnReceipt: ReceiptReference("R-2"))
        #expect(result.currency == "EUR" && result.refundAmount == "750.00")
        #expect(try ledger.member(card: card).balance < earned)
        // The same return again is a replay, not a second return.
        #expect(try ledger.refund(receipt: ReceiptReference("OLD-1"), amount: nil, returnReceipt: ReceiptReference("R-2")).replayed)
        #expect(try ledger.verify().ok)
    }
}
