import TestSupport
import Foundation
import GRDB
import Testing

@testable import LedgerStore
@testable import LoyaltyCore

/// Random sequences of enroll / award / redeem / refund with retries and duplicate receipts, run
/// against the real SQLite ledger and against a plain model of what a correct ledger must do. Award
/// and redemption share receipts (a sale that earns and redeems), two cards meet on one receipt
/// (refused: a receipt has one member), and head-office snapshots arrive between operations (so the
/// vouched balance differs from the local one).
@Suite struct LedgerPropertyTests {
    /// The model: what every balance and every sale must be, computed independently.
    struct Model {
        struct Sale {
            var card: String
            var amount: Int64 = 0
            var earned: Int64 = 0
            var redeemed: Int64 = 0
            var refunded: Int64 = 0
            var reversed: Int64 = 0
            var restored: Int64 = 0
            var hasEarn = false
            var hasRedeem = false
        }
        var balances: [String: Int64] = [:]  // this store's ledger, by card (one card per member here)
        /// Points head office holds for the member from other stores (known once a snapshot arrived).
        var elsewhere: [String: Int64] = [:]
        var sales: [String: Sale] = [:]  // by receipt

        func vouched(_ card: String) -> Int64 { balances[card, default: 0] + elsewhere[card, default: 0] }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func randomOperationsKeepEveryInvariant(seed: UInt64) throws {
        let seed = TestSeed.make("ledger property", fallback: seed)
        let folder = TemporaryFolder()
        let ledger = try LedgerDatabase(path: folder.file("ledger.db"))
        var random = SeededRandom(seed: seed)
        var model = Model()
        // Valid in-store EAN-13 numbers (check digit computed), so every command accepts them.
        let cards = (0..<6).map { GTIN.withCheckDigit("290000001000\($0)") }
        let receipts = (0..<60).map { "R\($0)" }
        var replays: [() throws -> Void] = []
        var written: [String: Int] = [:]

        for _ in 0..<500 {
            let card = cards.randomElement(using: &random)!
            let cardNumber = try CardNumber(card)
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<10:
                do {
                    // The same enrolment again is a retry: answered, nothing written.
                    let enrolled = try ledger.enroll(card: cardNumber, name: "M \(card)", birthday: nil)
                    #expect(enrolled.replayed == (model.balances[card] != nil), "a card enrolled twice")
                    if !enrolled.replayed { model.balances[card] = 0 }
                } catch let error as LoyaltyError {
                    #expect(error.code == "card_taken" && model.balances[card] != nil)
                }
            case 10..<45:
                let receipt = receipts.randomElement(using: &random)!
                let amount = Int64.random(in: 1...30_000, using: &random)
                do {
                    let result = try ledger.award(
                        card: cardNumber, amount: Money(minorUnits: amount, currency: .euro), receipt: ReceiptReference(receipt))
                    if let sale = model.sales[receipt], sale.hasEarn {
                        #expect(result.replayed && sale.card == card && sale.amount == amount && result.points == sale.earned)
                    } else {
                        #expect(!result.replayed && model.balances[card] != nil)
                        #expect(model.sales[receipt] == nil || model.sales[receipt]!.card == card, "two members on one receipt")
                        #expect(result.points == amount / 100)
                        var sale = model.sales[receipt] ?? Model.Sale(card: card)
                        sale.amount = amount
                        sale.earned = amount / 100
                        sale.hasEarn = true
                        model.sales[receipt] = sale
                        model.balances[card]! += amount / 100
                        written["earn", default: 0] += 1
                        #expect(result.balance == model.vouched(card), "award reports the vouched balance")
                        // The exact same call again, later: it must write nothing and print the same.
                        replays.append {
                            let again = try ledger.award(
                                card: cardNumber, amount: Money(minorUnits: amount, currency: .euro), receipt: ReceiptReference(receipt))
                            #expect(again.replayed && again.points == result.points && again.seq == result.seq)
                            #expect(again.balance == result.balance && again.tier == result.tier, "a retry prints the original")
                        }
                    }
                } catch let error as LoyaltyError {
                    if let sale = model.sales[receipt], sale.hasEarn {
                        #expect(error.code == "receipt_conflict" && (sale.card != card || sale.amount != amount))
                    } else if model.balances[card] == nil {
                        #expect(error.code == "unknown_card")
                    } else {
                        let sale = try #require(model.sales[receipt], "award refused: \(error.message)")
                        #expect(error.code == "receipt_other_member" && sale.card != card, "\(error.message)")
                        written["other_member", default: 0] += 1
                    }
                }
            case 45..<65:
                // Half of the redemptions are on a sale's receipt (earn and redeem on one sale).
                let receipt = Bool.random(using: &random) ? "X" + receipts.randomElement(using: &random)! : receipts.randomElement(using: &random)!
                let vouched = model.vouched(card)
                let points = Int64.random(in: 1...max(1, vouched + 20), using: &random)
                do {
                    let result = try ledger.redeem(card: cardNumber, points: points, receipt: ReceiptReference(receipt))
                    if let sale = model.sales[receipt], sale.hasRedeem {
                        #expect(result.replayed && sale.card == card && sale.redeemed == points)
                    } else {
                        #expect(points <= vouched, "redeemed beyond the vouched balance")
                        #expect(model.sales[receipt] == nil || model.sales[receipt]!.card == card, "two members on one receipt")
                        var sale = model.sales[receipt] ?? Model.Sale(card: card)
                        sale.redeemed = points
                        sale.hasRedeem = true
                        model.sales[receipt] = sale
                        model.balances[card]! -= points
                        written["redeem", default: 0] += 1
                        #expect(result.balance == model.vouched(card), "redeem reports the vouched balance")
                        replays.append {
                            let again = try ledger.redeem(card: cardNumber, points: points, receipt: ReceiptReference(receipt))
                            #expect(again.replayed && again.seq == result.seq && again.balance == result.balance)
                        }
                    }
                } catch let error as LoyaltyError {
                    if let sale = model.sales[receipt], sale.hasRedeem {
                        #expect(error.code == "receipt_conflict" && (sale.card != card || sale.redeemed != points))
                    } else if model.balances[card] == nil {
                        #expect(error.code == "unknown_card")
                    } else if let sale = model.sales[receipt], sale.card != card {
                        #expect(error.code == "receipt_other_member", "\(error.message)")
                        written["other_member", default: 0] += 1
                    } else if let sale = model.sales[receipt], sale.hasEarn, sale.refunded >= sale.amount {
                        #expect(error.code == "sale_refunded", "no points are spent on a fully refunded sale")
                    } else {
                        #expect(points > vouched, "redeem refused: \(error.message)")
                    }
                }
            case 65..<85:
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
                    let complete = refundedAfter >= expected.amount
                    let reversedTotal = complete ? expected.earned : expected.earned * refundedAfter / expected.amount
                    let restoredTotal = complete ? expected.redeemed : expected.redeemed * refundedAfter / max(1, expected.amount)
                    #expect(!state.isFullyRefunded)
                    #expect(result.card == expected.card, "a refund belongs to the sale's member")
                    #expect(result.reversedPoints == -(reversedTotal - expected.reversed))
                    #expect(result.restoredPoints == restoredTotal - expected.restored)
                    model.balances[expected.card]! += result.reversedPoints + result.restoredPoints
                    expected.refunded = refundedAfter
                    expected.reversed = reversedTotal
                    expected.restored = restoredTotal
                    model.sales[receipt] = expected
                    written["reverse", default: 0] += 1
                    #expect(result.balance == model.vouched(expected.card), "refund reports the balance every command shows")
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
            case 85..<92:
                // A pull from head office: snapshots that include this store's entries up to some seq,
                // plus points the member holds from other stores.
                let last = try ledger.syncPosition().lastSeq
                let included = Int64.random(in: 0...last, using: &random)
                try ledger.acknowledge(upTo: max(try ledger.syncPosition().acknowledgedSeq, included))
                var snapshots: [HeadOfficeSnapshot] = []
                for card in cards where model.balances[card] != nil && Bool.random(using: &random) {
                    let elsewhere = Int64.random(in: -30...300, using: &random)
                    let ownUpTo = try ledger.queue.read { db in
                        try Int64.fetchOne(
                            db, sql: "SELECT IFNULL(SUM(points), 0) FROM entries WHERE card = ? AND seq <= ?", arguments: [card, included])!
                    }
                    model.elsewhere[card] = elsewhere
                    snapshots.append(
                        HeadOfficeSnapshot(
                            cards: [card], balance: ownUpTo + elsewhere, tier: "base", rollingSpendMinor: 0, includesStoreSeq: included))
                }
                try ledger.applyHeadOfficeUpdates(members: snapshots, blockedCards: [], cursor: 0)
                written["snapshot", default: 0] += snapshots.isEmpty ? 0 : 1
                for card in cards where model.balances[card] != nil {
                    #expect(try ledger.member(card: CardNumber(card)).balance == model.vouched(card), "vouched balance of \(card)")
                }
            default:
                if !replays.isEmpty {
                    try replays[Int.random(in: 0..<replays.count, using: &random)]()
                }
            }
        }
        for replay in replays { try replay() }
        // The run must really have exercised each operation, not only refusals.
        for kind in ["earn", "redeem", "reverse", "snapshot", "other_member"] {
            #expect(written[kind, default: 0] >= 3, "\(kind): \(written)")
        }

        let report = try ledger.verify()
        #expect(report.ok, "\(report.checks.filter { !$0.ok })")
        for (card, balance) in model.balances {
            #expect(try ledger.member(card: CardNumber(card)).localBalance == balance, "local balance of \(card)")
            #expect(try ledger.member(card: CardNumber(card)).balance == model.vouched(card), "vouched balance of \(card)")
        }
        let earnsPerReceipt = try ledger.queue.read { db in
            try Int.fetchOne(db, sql: "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM entries WHERE kind = 'earn' GROUP BY receipt)")
        }
        #expect((earnsPerReceipt ?? 0) <= 1, "a receipt earned twice")
        let membersPerReceipt = try ledger.queue.read { db in
            try Int.fetchOne(db, sql: "SELECT MAX(n) FROM (SELECT COUNT(DISTINCT member_id) AS n FROM entries GROUP BY receipt)")
        }
        #expect((membersPerReceipt ?? 0) <= 1, "a receipt's entries moved between members")
        let status = try ledger.status()
        #expect(status.lastSeq == status.entries, "sequence not contiguous")
    }
}
