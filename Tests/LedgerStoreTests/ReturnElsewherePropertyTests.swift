import Foundation
import LedgerStore
import LoyaltyCore
import TestSupport
import Testing

/// A return of another store's sale is planned from head office's figures, which a cut-off store may
/// have overtaken (more refunded than sold, more taken back than earned). Whatever the figures, the
/// till never traps, never gives earned points back through a return, and its ledger verifies.
@Suite struct ReturnElsewherePropertyTests {
    @Test func anyFiguresFromHeadOfficeNeverTrapNorAddPoints() throws {
        let folder = TemporaryFolder()
        let ledger = try LedgerDatabase(path: folder.file("ledger.db"))
        let card = try CardNumber(GTIN.withCheckDigit("290000066601"))
        _ = try ledger.enroll(card: card, name: nil, birthday: nil)
        let seed =
            ProcessInfo.processInfo.environment["LOYALTY_TEST_SEED"].flatMap(UInt64.init)
            ?? UInt64.random(in: 1...UInt64.max)
        var random = SeededRandom(seed: seed)
        for run in 0..<300 {
            let sale = Int64.random(in: 1...1_000_000, using: &random)
            let earned = Int64.random(in: 0...20_000, using: &random)
            let withLines = Bool.random(using: &random)
            var lines: [SaleLineState] = []
            if withLines {
                let first = Int64.random(in: 0...sale, using: &random)
                let firstPoints = Int64.random(in: 0...earned, using: &random)
                lines = [(first, firstPoints), (sale - first, earned - firstPoints)].filter { $0.0 > 0 }.enumerated()
                    .map {
                        SaleLineState(
                            sku: "L\($0.offset)", amountMinor: $0.element.0, points: $0.element.1,
                            returnedMinor: Int64.random(in: 0...($0.element.0 * 2), using: &random),
                            reversedPoints: Int64.random(in: 0...($0.element.1 * 2), using: &random))
                    }
            }
            let redeemed = Int64.random(in: 0...500, using: &random)
            let sold = SoldElsewhere(
                storeId: "A", receipt: try ReceiptReference("S-\(run)"), card: card.value, currencyCode: "EUR",
                earnSeq: Int64(run + 1), ruleVersion: 1, redeemSeq: redeemed > 0 ? Int64(100_000 + run) : nil,
                redeemCard: card.value, redeemRuleVersion: 1,
                state: SaleRefundState(
                    saleMinorUnits: sale, earnedPoints: earned, redeemedPoints: redeemed,
                    refundedMinorUnits: Int64.random(in: 0...(sale * 2), using: &random),
                    reversedEarnPoints: Int64.random(in: 0...(earned * 2), using: &random),
                    restoredRedeemPoints: Int64.random(in: 0...(redeemed * 2), using: &random)),
                lines: lines,
                bonuses: Bool.random(using: &random)
                    ? [.init(seq: Int64(200_000 + run), card: card.value, points: 50, ruleVersion: 1)] : [])
            let amount =
                Bool.random(using: &random)
                ? nil : Money(minorUnits: Int64.random(in: 1...sale, using: &random), currency: .euro)
            do {
                let result = try ledger.refundElsewhere(
                    sold, amount: withLines ? nil : amount, lines: nil,
                    returnReceipt: try ReceiptReference("RET-\(run)"))
                #expect(result.reversedPoints <= 0 && result.restoredPoints >= 0, "seed \(seed) run \(run): \(result)")
                #expect(-result.reversedPoints <= earned, "seed \(seed) run \(run): never more than the sale earned")
            } catch let error as LoyaltyError {
                #expect(
                    ["already_refunded", "over_refund"].contains(error.code), "seed \(seed) run \(run): \(error.code)")
            }
        }
        #expect(try ledger.verify().ok, "seed \(seed)")
    }
}
