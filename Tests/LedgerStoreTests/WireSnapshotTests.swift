import Foundation
import TestSupport
import Testing

@testable import LedgerStore
@testable import LoyaltyCore

/// Found by review: a head office (or whatever a redirect led to) answering a member's balance of
/// Int64.max made every later `member` and `award` of that card trap on overflow, and the daemon die.
@Suite struct WireSnapshotTests {
    @Test func aHugeBalanceFromTheWireIsRefusedNeverATrap() throws {
        let folder = TemporaryFolder()
        let ledger = try LedgerDatabase(path: folder.file("till.db"), creating: .init(storeId: "S1"))
        let card = try CardNumber("2900000777774")
        _ = try ledger.enroll(card: card, name: nil, birthday: nil)
        _ = try ledger.award(
            card: card, amount: Money(minorUnits: 1000, currency: .euro), receipt: ReceiptReference("R1"))
        try ledger.applyHeadOfficeUpdates(
            members: [
                HeadOfficeSnapshot(
                    cards: [card.value], balance: .max, tier: "base", rollingSpendMinor: 0, includesStoreSeq: 0)
            ], blockedCards: [], cursor: 1)
        #expect(throws: LoyaltyError.self) { try ledger.member(card: card) }
        #expect(throws: LoyaltyError.self) {
            try ledger.award(
                card: card, amount: Money(minorUnits: 100, currency: .euro), receipt: ReceiptReference("R2"))
        }
        #expect(try ledger.verify().ok)
    }

    /// The new figures of this session's snapshot (`sales_since_enrolment`, `name`) are bounded too: the
    /// early-visit count adds this till's sales to head office's, and must never trap.
    @Test func extremeSnapshotFiguresNeverTrapAnAward() throws {
        let folder = TemporaryFolder()
        var program = LoyaltyProgram.standard()
        program.coupons = [
            CouponRule(name: "come_back", trigger: .earlyVisits(visits: 2, withinDays: 14), discountMinor: 500, validDays: 30)
        ]
        let ledger = try LedgerDatabase(path: folder.file("till.db"), creating: .init(storeId: "S1", program: program))
        let card = try CardNumber("2900000777774")
        _ = try ledger.enroll(card: card, name: nil, birthday: nil)
        for count in [Int64.max, Int64.min] {
            try ledger.applyHeadOfficeUpdates(
                members: [
                    HeadOfficeSnapshot(
                        cards: [card.value], balance: 0, tier: "base", rollingSpendMinor: 0, includesStoreSeq: 0,
                        salesSinceEnrolment: count, name: String(repeating: "x", count: 10_000))
                ], blockedCards: [], cursor: 1)
            let sale = try ledger.award(
                card: card, amount: Money(minorUnits: 1000, currency: .euro), receipt: ReceiptReference(count > 0 ? "R-max" : "R-min"))
            #expect(sale.points >= 0)
        }
        #expect(try ledger.member(card: card).name == nil, "a name beyond 100 characters is not adopted")
        #expect(try ledger.verify().ok)
    }
}
