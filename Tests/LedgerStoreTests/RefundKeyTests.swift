import Foundation
import LedgerStore
import LoyaltyCore
import TestSupport
import Testing

/// Receipts and return references are the POS's text: wildcard characters in them must not make one
/// return look like another.
@Suite struct RefundKeyTests {
    @Test func aReturnReferenceWithWildcardsIsNotTakenForAnotherReturn() throws {
        let folder = TemporaryFolder()
        let ledger = try LedgerDatabase(path: folder.file("keys.db"), creating: .init(storeId: "K"))
        var program = LoyaltyProgram.standard()
        program.version = 2
        program.validFromMilliseconds = 0
        program.bonuses = ProgramBonuses(firstPurchasePoints: 100)
        let document = String(decoding: try JSONEncoder().encode(program), as: UTF8.self)
        try ledger.applyHeadOfficeUpdates(members: [], blockedCards: [], cursor: 0, programs: [(version: 2, document: document)])
        let card = try CardNumber(GTIN.withCheckDigit("290000055509"))
        _ = try ledger.enroll(card: card, name: nil, birthday: nil)
        let sale = try ledger.award(card: card, amount: Money(minorUnits: 1_000, currency: .euro), receipt: ReceiptReference("A%"))
        #expect(sale.firstPurchaseBonus == 100)
        let full = try ledger.refund(receipt: ReceiptReference("A%"), amount: nil, returnReceipt: ReceiptReference("R1"))
        #expect(full.reversedBonusPoints == -100 && !full.replayed)
        // "R_" would match "R1" as a LIKE pattern: it is a new return of a fully refunded sale, refused.
        #expect(throws: LoyaltyError.self) { try ledger.refund(receipt: ReceiptReference("A%"), amount: nil, returnReceipt: ReceiptReference("R_")) }
        #expect(try ledger.refund(receipt: ReceiptReference("A%"), amount: nil, returnReceipt: ReceiptReference("R1")).replayed)
        #expect(try ledger.verify().ok)
    }
}
