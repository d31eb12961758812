import Foundation
import LedgerStore
import LoyaltyCore
import TestSupport
import Testing

/// A POS that retries a sale (its answer was lost) must get exactly the first answer: the receipt it prints
/// shows the breakdown, the first-purchase bonus and the coupons, whatever changed since.
@Suite struct SaleReplayTests {
    let card = try! CardNumber("2900000777774")

    @Test func aRetriedSaleReturnsTheOriginalBreakdownBonusAndCoupons() throws {
        let folder = TemporaryFolder()
        var program = LoyaltyProgram.standard()
        var rules = EarningRules()
        rules.categoryMultiplierPercent = ["fresh": 200]
        rules.excludedCategories = ["gift_cards"]
        // A name the kept answer must carry exactly (quotes, a backslash, a control character, an emoji).
        rules.promotions = [Promotion(name: "Ana's \"double\" \\ day\t☀️", multiplierPercent: 200)]
        program.earningRules = rules
        program.bonuses = ProgramBonuses(firstPurchasePoints: 100)
        program.coupons = [
            CouponRule(name: "come_back", trigger: .earlyVisits(visits: 1, withinDays: 14), discountMinor: 500, validDays: 30)
        ]
        let ledger = try LedgerDatabase(path: folder.file("till.db"), creating: .init(storeId: "S1", program: program))
        _ = try ledger.enroll(card: card, name: nil, birthday: nil)
        let lines = [
            SaleLine(sku: "APPLE", category: "fresh", amountMinor: 1_000),
            SaleLine(sku: "GIFT", category: "gift_cards", amountMinor: 2_000),
        ]
        let amount = Money(minorUnits: 3_000, currency: .euro)
        let first = try ledger.award(card: card, amount: amount, receipt: ReceiptReference("R1"), lines: lines)
        #expect(first.breakdown?.promotions.first?.points ?? 0 > 0, "\(first)")
        #expect(first.breakdown != nil && first.firstPurchaseBonus == 100 && first.couponsIssued?.count == 1, "\(first)")

        // Later sales change the member's standing; the retry still answers as the first time.
        _ = try ledger.award(card: card, amount: amount, receipt: ReceiptReference("R2"), lines: lines)
        var replay = try ledger.award(card: card, amount: amount, receipt: ReceiptReference("R1"), lines: lines)
        #expect(replay.replayed)
        replay.replayed = false
        #expect(replay == first)
        // The same receipt and amount with other lines is another sale, refused (found by an outside review).
        let other = [SaleLine(sku: "TOBACCO", category: "tobacco", amountMinor: 3_000)]
        #expect {
            try ledger.award(card: card, amount: amount, receipt: ReceiptReference("R1"), lines: other)
        } throws: { ($0 as? LoyaltyError)?.code == "receipt_conflict" }
        withExtendedLifetime(folder) {}
    }

    /// Found by an outside review: a walk-in's sale retried after the card was enrolled said
    /// `provisional: false`, and a retried enrolment answered the balance of now.
    @Test func aRetryAnswersWhatWasTrueThenNotNow() throws {
        let folder = TemporaryFolder()
        var program = LoyaltyProgram.standard()
        program.bonuses = ProgramBonuses(enrolmentPoints: 100)
        let ledger = try LedgerDatabase(path: folder.file("till.db"), creating: .init(storeId: "S1", program: program))
        let walkIn = try CardNumber("2900000777781")
        let amount = Money(minorUnits: 1_000, currency: .euro)
        let sale = try ledger.award(card: walkIn, amount: amount, receipt: ReceiptReference("W1"), provisionalIfUnknown: true)
        #expect(sale.provisional)
        _ = try ledger.enroll(card: walkIn, name: nil, birthday: nil)
        var again = try ledger.award(card: walkIn, amount: amount, receipt: ReceiptReference("W1"), provisionalIfUnknown: true)
        again.replayed = false
        #expect(again == sale)

        let enrolled = try ledger.enroll(card: card, name: "Ada", birthday: nil)
        #expect(enrolled.balance == 100)
        _ = try ledger.award(card: card, amount: Money(minorUnits: 5_000, currency: .euro), receipt: ReceiptReference("A1"))
        var retried = try ledger.enroll(card: card, name: "Ada", birthday: nil)
        #expect(retried.replayed)
        retried.replayed = false
        #expect(retried == enrolled)
        withExtendedLifetime(folder) {}
    }
}

/// One sale, one member: a coupon used on a receipt claims it for the coupon's member like a sale does.
@Suite struct CouponReceiptTests {
    @Test func aReceiptACouponWasUsedOnBelongsToItsMember() throws {
        let folder = TemporaryFolder()
        var program = LoyaltyProgram.standard()
        program.coupons = [CouponRule(name: "welcome", trigger: .enrolment, discountMinor: 500, validDays: 30)]
        let ledger = try LedgerDatabase(path: folder.file("till.db"), creating: .init(storeId: "S1", program: program))
        let ana = try CardNumber("2900000777774"), ben = try CardNumber("2900000777781")
        let welcome = try #require(try ledger.enroll(card: ana, name: nil, birthday: nil).couponsIssued?.first)
        _ = try ledger.enroll(card: ben, name: nil, birthday: nil)
        _ = try ledger.useCoupon(code: welcome, card: ana, receipt: ReceiptReference("R-7"))
        #expect {
            try ledger.award(card: ben, amount: Money(minorUnits: 2_000, currency: .euro), receipt: ReceiptReference("R-7"))
        } throws: { ($0 as? LoyaltyError)?.code == "receipt_other_member" }
        // Ana's own sale on the receipt earns as usual.
        #expect(try ledger.award(card: ana, amount: Money(minorUnits: 2_000, currency: .euro), receipt: ReceiptReference("R-7")).points == 20)
        withExtendedLifetime(folder) {}
    }
}
