import TestSupport
import Foundation
import GRDB
import Testing

@testable import LedgerStore
@testable import LoyaltyCore

/// Random sequences of enroll / award / redeem / refund with retries and duplicate receipts, run
/// against the real SQLite ledger and against a plain model of what a correct ledger must do.
@Suite struct LedgerPropertyTests {
    /// The model: what every balance and every sale must be, computed independently.
    struct Model {
        struct Sale {
            var card: String
            var amount: Int64
            var earned: Int64
            var redeemed: Int64 = 0
            var refunded: Int64 = 0
            var reversed: Int64 = 0
            var restored: Int64 = 0
        }
        var balances: [String: Int64] = [:]  // by card (one card per member here)
        var sales: [String: Sale] = [:]  // by receipt
        var redemptions: [String: (card: String, points: Int64)] = [:]
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func randomOperationsKeepEveryInvariant(seed: UInt64) throws {
        let folder = TemporaryFolder()
        let ledger = try LedgerDatabase(path: folder.file("ledger.db"))
        var random = SeededRandom(seed: seed)
        var model = Model()
        let cards = (0..<6).map { "29000000\(10_000 + $0)" }
        let receipts = (0..<60).map { "R\($0)" }
        var replays: [() throws -> Void] = []
        var written: [EntryKind: Int] = [:]

        for _ in 0..<400 {
            let card = cards.randomElement(using: &random)!
            let cardNumber = try CardNumber(card)
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<10:
                do {
                    _ = try ledger.enroll(card: cardNumber, name: "M \(card)", birthday: nil)
                    #expect(model.balances[card] == nil, "a card enrolled twice")
                    model.balances[card] = 0
                } catch let error as LoyaltyError {
                    #expect(error.code == "card_taken" && model.balances[card] != nil)
                }
            case 10..<50:
                let receipt = receipts.randomElement(using: &random)!
                let amount = Int64.random(in: 1...30_000, using: &random)
                do {
                    let result = try ledger.award(
                        card: cardNumber, amount: Money(minorUnits: amount, currency: .euro), receipt: ReceiptReference(receipt))
                    if let sale = model.sales[receipt] {
                        #expect(result.replayed && sale.card == card && sale.amount == amount && result.points == sale.earned)
                    } else {
                        #expect(!result.replayed && model.balances[card] != nil)
                        #expect(result.points == amount / 100)
                        model.sales[receipt] = Model.Sale(card: card, amount: amount, earned: amount / 100)
                        model.balances[card]! += amount / 100
                        written[.earn, default: 0] += 1
                        #expect(result.balance == model.balances[card])
                        // The exact same call again, later: it must write nothing and say what it did.
                        replays.append {
                            let again = try ledger.award(
                                card: cardNumber, amount: Money(minorUnits: amount, currency: .euro), receipt: ReceiptReference(receipt))
                            #expect(again.replayed && again.points == result.points && again.seq == result.seq)
                        }
                    }
                } catch let error as LoyaltyError {
                    if model.balances[card] == nil {
                        #expect(error.code == "unknown_card")
                    } else {
                        let sale = try #require(model.sales[receipt], "award refused: \(error.message)")
                        #expect(error.code == "receipt_conflict" && (sale.card != card || sale.amount != amount))
                    }
                }
            case 50..<70:
                let receipt = "X" + receipts.randomElement(using: &random)!
                let balance = model.balances[card] ?? 0
                let points = Int64.random(in: 1...max(1, balance + 20), using: &random)
                do {
                    let result = try ledger.redeem(card: cardNumber, points: points, receipt: ReceiptReference(receipt))
                    if let earlier = model.redemptions[receipt] {
                        #expect(result.replayed && earlier.card == card && earlier.points == points)
                    } else {
                        #expect(points <= balance, "redeemed beyond the balance")
                        model.redemptions[receipt] = (card, points)
                        model.sales[receipt] = Model.Sale(card: card, amount: 0, earned: 0, redeemed: points)
                        model.balances[card]! -= points
                        written[.redeem, default: 0] += 1
                        #expect(result.balance == model.balances[card])
                    }
                } catch let error as LoyaltyError {
                    let known = model.redemptions[receipt] != nil
                    #expect(
                        model.balances[card] == nil || points > balance || known,
                        "redeem refused: \(error.message)")
                }
            case 70..<90:
                let receipt = Bool.random(using: &random)
                    ? receipts.randomElement(using: &random)! : "X" + receipts.randomElement(using: &random)!
                let partial = Bool.random(using: &random)
                let sale = model.sales[receipt]
                let amount: Int64? = partial ? Int64.random(in: 1...max(1, (sale?.amount ?? 100) - (sale?.refunded ?? 0) + 50), using: &random) : nil
                let returnReceipt = "RET\(Int.random(in: 0..<1_000_000, using: &random))"
                do {
                    let result = try ledger.refund(
                        receipt: ReceiptReference(receipt), amount: amount.map { Money(minorUnits: $0, currency: .euro) },
                        returnReceipt: ReceiptReference(returnReceipt))
                    var expected = try #require(sale, "refunded an unknown receipt")
                    let state = SaleRefundState(
                        saleMinorUnits: expected.amount, earnedPoints: expected.earned, redeemedPoints: expected.redeemed,
                        refundedMinorUnits: expected.refunded, reversedEarnPoints: expected.reversed,
                        restoredRedeemPoints: expected.restored)
                    let refund = amount ?? (expected.amount - expected.refunded)
                    let refundedAfter = expected.refunded + refund
                    let reversedTotal = refundedAfter >= expected.amount ? expected.earned : expected.earned * refundedAfter / expected.amount
                    let restoredTotal = refundedAfter >= expected.amount ? expected.redeemed : expected.redeemed * refundedAfter / max(1, expected.amount)
                    #expect(!state.isFullyRefunded)
                    #expect(result.reversedPoints == -(reversedTotal - expected.reversed))
                    #expect(result.restoredPoints == restoredTotal - expected.restored)
                    model.balances[expected.card]! += result.reversedPoints + result.restoredPoints
                    expected.refunded = refundedAfter
                    expected.reversed = reversedTotal
                    expected.restored = restoredTotal
                    model.sales[receipt] = expected
                    written[.reverse, default: 0] += 1
                    #expect(result.balance == model.balances[expected.card])
                    replays.append {
                        let again = try ledger.refund(
                            receipt: ReceiptReference(receipt), amount: amount.map { Money(minorUnits: $0, currency: .euro) },
                            returnReceipt: ReceiptReference(returnReceipt))
                        #expect(again.replayed && again.reversedPoints == result.reversedPoints && again.restoredPoints == result.restoredPoints)
                    }
                } catch let error as LoyaltyError {
                    if let sale {
                        let remaining = sale.amount - sale.refunded
                        let fully = sale.refunded >= sale.amount && sale.reversed >= sale.earned && sale.restored >= sale.redeemed
                        #expect(
                            fully || (amount != nil && (amount! > remaining || sale.amount == 0)),
                            "refund refused: \(error.message)")
                    } else {
                        #expect(error.code == "unknown_receipt")
                    }
                }
            default:
                if !replays.isEmpty {
                    try replays[Int.random(in: 0..<replays.count, using: &random)]()
                }
            }
        }
        for replay in replays { try replay() }
        // The run must really have exercised each operation, not only refusals.
        #expect(written[.earn, default: 0] >= 20 && written[.redeem, default: 0] >= 5 && written[.reverse, default: 0] >= 5, "\(written)")

        let report = try ledger.verify()
        #expect(report.ok, "\(report.checks.filter { !$0.ok })")
        for (card, balance) in model.balances {
            #expect(try ledger.member(card: CardNumber(card)).balance == balance, "balance of \(card)")
        }
        let earnsPerReceipt = try ledger.queue.read { db in
            try Int.fetchOne(db, sql: "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM entries WHERE kind = 'earn' GROUP BY receipt)")
        }
        #expect((earnsPerReceipt ?? 0) <= 1, "a receipt earned twice")
        let status = try ledger.status()
        #expect(status.lastSeq == status.entries, "sequence not contiguous")
    }
}
