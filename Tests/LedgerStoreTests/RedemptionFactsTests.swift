import Foundation
import LedgerStore
import LoyaltyCore
import TestSupport
import Testing

/// A redemption is priced and limited by facts in the ledger, not by what a caller or today's program says.
@Suite struct RedemptionFactsTests {
    let card = try! CardNumber("2900000777774")
    func money(_ text: String) -> Money { try! Money(parsing: text, currency: .euro) }

    func ledger(_ configure: (inout LoyaltyProgram) -> Void = { _ in }) throws -> (LedgerDatabase, TemporaryFolder) {
        let folder = TemporaryFolder()
        var program = LoyaltyProgram.standard()
        configure(&program)
        let ledger = try LedgerDatabase(path: folder.file("till.db"), creating: .init(storeId: "A", program: program))
        _ = try ledger.enroll(card: card, name: "Ana", birthday: nil)
        return (ledger, folder)
    }

    /// Defect: a retried redemption was priced at today's point value after a program switch (5.00,
    /// then 10.00 on the replay). A replay returns the discount given the first time.
    @Test func aRetriedRedemptionReturnsTheDiscountGivenEvenAfterAProgramSwitch() throws {
        let (ledger, folder) = try ledger()
        _ = try ledger.award(card: card, amount: money("1000.00"), receipt: ReceiptReference("S1"))
        let first = try ledger.redeem(card: card, points: 500, receipt: ReceiptReference("S2"))
        var doubled = try ledger.program()
        doubled.version = 2
        doubled.pointValueMinorUnits *= 2
        try ledger.applyHeadOfficeUpdates(
            members: [], blockedCards: [], cursor: 0,
            programs: [(2, String(decoding: try JSONEncoder().encode(doubled), as: UTF8.self))])
        #expect(try ledger.program().version == 2)
        let replay = try ledger.redeem(card: card, points: 500, receipt: ReceiptReference("S2"))
        #expect(
            replay.replayed && replay.discount == first.discount, "replay: \(replay.discount), first: \(first.discount)"
        )
        // A new redemption is priced by the program in force.
        let fresh = try ledger.redeem(card: card, points: 100, receipt: ReceiptReference("S3"))
        #expect(fresh.discount == Money(minorUnits: 100 * doubled.pointValueMinorUnits, currency: .euro).decimalString)
        withExtendedLifetime(folder) {}
    }

    /// Defect: `max_share_percent` trusted `--sale-amount` although the receipt's sale was in the ledger
    /// (20.00 redeemed on a 10.00 sale by passing 5000.00).
    @Test func theShareOfASaleIsMeasuredAgainstTheSaleInTheLedger() throws {
        let (ledger, folder) = try ledger { $0.maximumRedemptionSharePercent = 50 }
        _ = try ledger.award(card: card, amount: money("5000.00"), receipt: ReceiptReference("BIG"))
        _ = try ledger.award(card: card, amount: money("10.00"), receipt: ReceiptReference("SMALL"))
        let value = try ledger.program().pointValueMinorUnits
        let twenty = 2_000 / value
        #expect {
            try ledger.redeem(
                card: card, points: twenty, receipt: ReceiptReference("SMALL"), saleAmount: money("5000.00"))
        } throws: { ($0 as? LoyaltyError)?.code == "sale_amount_mismatch" }
        #expect {
            try ledger.redeem(card: card, points: twenty, receipt: ReceiptReference("SMALL"))
        } throws: { ($0 as? LoyaltyError)?.code == "over_sale_share" }
        // Half of the recorded 10.00 sale is allowed, with or without the (right) amount.
        let half = 500 / value
        let redeemed = try ledger.redeem(card: card, points: half, receipt: ReceiptReference("SMALL"))
        #expect(redeemed.discount == "5.00")
        // A sale not in the ledger yet (redeemed before it is paid) still needs the POS's amount.
        #expect {
            try ledger.redeem(card: card, points: half, receipt: ReceiptReference("NEXT"))
        } throws: { ($0 as? LoyaltyError)?.code == "sale_amount_needed" }
        withExtendedLifetime(folder) {}
    }

    /// Found by review: the share was measured against the gross sale, so a sale refunded down to 10.00
    /// still let points pay 10.00, and a fully refunded sale still took points.
    @Test func theShareIsOfTheSaleNetOfRefundsAndARefundedSaleTakesNoPoints() throws {
        let (ledger, folder) = try ledger { $0.maximumRedemptionSharePercent = 50 }
        _ = try ledger.award(card: card, amount: money("100.00"), receipt: ReceiptReference("S1"))
        _ = try ledger.award(card: card, amount: money("2000.00"), receipt: ReceiptReference("S2"))
        _ = try ledger.refund(
            receipt: ReceiptReference("S1"), amount: money("90.00"), returnReceipt: ReceiptReference("X1"))
        #expect {
            try ledger.redeem(card: card, points: 1_000, receipt: ReceiptReference("S1"))
        } throws: { ($0 as? LoyaltyError)?.code == "over_sale_share" }
        #expect(try ledger.redeem(card: card, points: 500, receipt: ReceiptReference("S1")).discount == "5.00")
        _ = try ledger.award(card: card, amount: money("30.00"), receipt: ReceiptReference("S3"))
        _ = try ledger.refund(receipt: ReceiptReference("S3"), amount: nil, returnReceipt: ReceiptReference("X3"))
        #expect {
            try ledger.redeem(card: card, points: 100, receipt: ReceiptReference("S3"))
        } throws: { ($0 as? LoyaltyError)?.code == "sale_refunded" }
        withExtendedLifetime(folder) {}
    }

    /// Defect: one sale, two formulas — a silver member's 9.99 sale earned 12 without `--line` and 11 with one.
    @Test func aSaleEarnsTheSameWithOrWithoutItsLines() throws {
        var random = SeededRandom(seed: TestSeed.make("one formula"))
        for rounding in Rounding.allCases {
            let (ledger, folder) = try ledger {
                $0.rounding = rounding
                for index in $0.tiers.indices { $0.tiers[index].earnMultiplierPercent = 125 + 10 * Int64(index) }
            }
            // Two members buying the same, one without lines and one with: they climb the tiers in step.
            let twin = try CardNumber("2900000777781")
            _ = try ledger.enroll(card: twin, name: "Twin", birthday: nil)
            for index in 0..<200 {
                let minor = Int64.random(in: 1...200_000, using: &random)
                let amount = Money(minorUnits: minor, currency: .euro)
                let plain = try ledger.award(card: card, amount: amount, receipt: ReceiptReference("P\(index)"))
                let lined = try ledger.award(
                    card: twin, amount: amount, receipt: ReceiptReference("L\(index)"),
                    lines: [SaleLine(sku: "x", category: "", amountMinor: minor)])
                #expect(plain.points == lined.points, "\(rounding) \(amount): \(plain.points) vs \(lined.points)")
                #expect(plain.tier == lined.tier)
            }
            withExtendedLifetime(folder) {}
        }
    }
}

/// Returns by line, through the real ledger.
@Suite struct LineReturnLedgerTests {
    let card = try! CardNumber("2900000777774")
    func money(_ text: String) -> Money { try! Money(parsing: text, currency: .euro) }

    @Test func returningGiftCardsTakesBackNothingAndTheFreshFoodWhatItEarned() throws {
        let folder = TemporaryFolder()
        var program = LoyaltyProgram.standard()
        var rules = EarningRules()
        rules.excludedCategories = ["gift_cards"]
        rules.categoryMultiplierPercent = ["fresh": 200]
        program.earningRules = rules
        let ledger = try LedgerDatabase(path: folder.file("till.db"), creating: .init(storeId: "A", program: program))
        _ = try ledger.enroll(card: card, name: nil, birthday: nil)
        let sale = try ledger.award(
            card: card, amount: money("2000.00"), receipt: ReceiptReference("S1"),
            lines: [
                SaleLine(sku: "salad", category: "fresh", amountMinor: 100_000),
                SaleLine(sku: "gift", category: "gift_cards", amountMinor: 100_000),
            ])
        #expect(sale.points == 2_000)
        let gifts = try ledger.refund(
            receipt: ReceiptReference("S1"), amount: nil, lines: [LineReturn(sku: "gift", amountMinor: 100_000)],
            returnReceipt: ReceiptReference("X1"))
        #expect(gifts.reversedPoints == 0 && gifts.refundAmount == "1000.00")
        // A partial amount alone cannot say which lines came back.
        #expect {
            try ledger.refund(
                receipt: ReceiptReference("S1"), amount: money("500.00"), returnReceipt: ReceiptReference("X2"))
        } throws: { ($0 as? LoyaltyError)?.code == "lines_needed" }
        let half = try ledger.refund(
            receipt: ReceiptReference("S1"), amount: nil, lines: [LineReturn(sku: "salad", amountMinor: 50_000)],
            returnReceipt: ReceiptReference("X3"))
        #expect(half.reversedPoints == -1_000)
        let rest = try ledger.refund(
            receipt: ReceiptReference("S1"), amount: nil, returnReceipt: ReceiptReference("X4"))
        #expect(rest.reversedPoints == -1_000 && rest.fullyRefunded)
        #expect(try ledger.member(card: card).balance == 0)
        // A retried line return refunds once.
        let again = try ledger.refund(
            receipt: ReceiptReference("S1"), amount: nil, lines: [LineReturn(sku: "salad", amountMinor: 50_000)],
            returnReceipt: ReceiptReference("X3"))
        #expect(again.replayed && again.reversedPoints == -1_000)
        #expect(try ledger.verify().ok)
        withExtendedLifetime(folder) {}
    }
}

/// One chain time zone, the program's, wherever a person sees a day.
@Suite struct ChainTimeZoneTests {
    /// Defect: the manager page's "Today (UTC)" started at 1 a.m. in Paris.
    @Test func todaysTotalsCountTheChainsDay() throws {
        let folder = TemporaryFolder()
        var program = LoyaltyProgram.standard()
        var rules = EarningRules()
        rules.timeZone = "Europe/Paris"
        program.earningRules = rules
        let ledger = try LedgerDatabase(path: folder.file("till.db"), creating: .init(storeId: "A", program: program))
        let card = try CardNumber("2900000777774")
        let lateEvening = try Date("2026-12-04T22:30:00Z", strategy: .iso8601)  // 23:30 in Paris, 4 December
        let afterMidnight = try Date("2026-12-04T23:15:00Z", strategy: .iso8601)  // 00:15 in Paris, 5 December
        _ = try ledger.enroll(card: card, name: nil, birthday: nil, at: lateEvening)
        _ = try ledger.award(
            card: card, amount: Money(minorUnits: 1_000, currency: .euro), receipt: ReceiptReference("S1"),
            at: lateEvening)
        let status = try ledger.status(at: afterMidnight)
        #expect(status.timeZone == "Europe/Paris")
        #expect(
            status.entriesToday == 0 && status.salesToday == "0.00", "yesterday's sale in Paris: \(status.entriesToday)"
        )
        #expect(status.day == "2026-12-05T00:00:00+01:00", "the chain's midnight, in the chain's time")
        #expect(try ledger.status(at: lateEvening).entriesToday == 2)
        withExtendedLifetime(folder) {}
    }
}

/// Found by review: a bank card number typed into a sale line's category was stored in the ledger.
@Suite struct SaleLinePaymentCardTests {
    @Test func aBankCardNumberInALineNeverReachesTheLedger() throws {
        let folder = TemporaryFolder()
        let ledger = try LedgerDatabase(path: folder.file("till.db"), creating: .init(storeId: "A"))
        let card = try CardNumber("2900000777774")
        _ = try ledger.enroll(card: card, name: nil, birthday: nil)
        for (sku, category) in [
            ("x", "4111111111111111"), ("sku-1", "Visa 4111-1111-1111-1111"), ("4111 1111 1111 1111", "food"),
        ] {
            #expect {
                try ledger.award(
                    card: card, amount: Money(minorUnits: 100, currency: .euro),
                    receipt: ReceiptReference("S-\(sku.count)-\(category.count)"),
                    lines: [SaleLine(sku: sku, category: category, amountMinor: 100)])
            } throws: { ($0 as? LoyaltyError)?.code == "payment_card" }
            #expect(throws: LoyaltyError.self) {
                try SaleLine.checked(sku: sku, category: category, amount: "1.00", currency: .euro)
            }
        }
        #expect(try ledger.status().entries == 1, "only the enrolment")
        withExtendedLifetime(folder) {}
    }
}
