import Foundation
import TestSupport
import Testing

@testable import LedgerStore
@testable import LoyaltyCore

/// Random sales (with category lines), redemptions and full or partial refunds under a program whose
/// tiers count points earned, against a plain model: the till's 12-month points earned are the points
/// of sales and bonuses less what refunds took back, redemptions never lower them, and the till's tier
/// is the highest tier those points ever reached (up at once, never down before head office's review).
@Suite struct TierByPointsPropertyTests {
    static func program() throws -> LoyaltyProgram {
        var definition = ProgramDefinition(
            validFromMilliseconds: 0, currency: .euro, pointsPerUnit: 1, rounding: .down,
            tiers: [
                .init(name: "base", threshold: 0, earnMultiplierPercent: 100),
                .init(name: "silver", threshold: 300, earnMultiplierPercent: 125),
                .init(name: "gold", threshold: 900, earnMultiplierPercent: 150),
            ],
            pointValueMinor: 1, minimumRedemptionPoints: 1, redemptionStepPoints: 1)
        definition.tierBasis = .points
        var rules = EarningRules()
        rules.categoryMultiplierPercent = ["fresh": 200]
        definition.earningRules = rules
        definition.bonuses = ProgramBonuses(enrolmentPoints: 0, firstPurchasePoints: 50, referralPoints: 0)
        return try definition.program(version: 2)
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func pointsEarnedAndTiersFollowSalesAndRefundsButNotRedemptions(seed: UInt64) throws {
        let seed = TestSeed.make("points tiers property", fallback: seed)
        var random = SeededRandom(seed: seed)
        let folder = TemporaryFolder()
        let ledger = try LedgerDatabase(path: folder.file("ledger.db"))
        let program = try Self.program()
        let document = String(decoding: try JSONEncoder().encode(program), as: UTF8.self)
        try ledger.applyHeadOfficeUpdates(
            members: [], blockedCards: [], cursor: 0, programs: [(version: 2, document: document)])
        let cards = try (0..<4).map { try CardNumber(GTIN.withCheckDigit("290000002000\($0)")) }
        for card in cards { _ = try ledger.enroll(card: card, name: nil, birthday: nil) }

        var earned: [String: Int64] = [:]
        var tier: [String: Tier] = [:]
        // A sale's lines and what of each is still unreturned: a sale with lines is returned by line.
        var sales: [(receipt: String, card: CardNumber, amount: Int64, refunded: Int64, lines: [SaleLine], left: [Int64])] = []
        for step in 0..<200 {
            let card = cards.randomElement(using: &random)!
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<5:
                let lines = (0..<Int.random(in: 1...3, using: &random)).map { index in
                    SaleLine(
                        sku: "S\(index)", category: Bool.random(using: &random) ? "fresh" : "dry",
                        amountMinor: Int64.random(in: 100...9_000, using: &random))
                }
                let amount = lines.reduce(0) { $0 + $1.amountMinor }
                let receipt = "R\(step)"
                let before = tier[card.value] ?? program.tiers[0]
                let result = try ledger.award(
                    card: card, amount: Money(minorUnits: amount, currency: .euro), receipt: ReceiptReference(receipt),
                    lines: lines)
                #expect(!result.replayed && result.points > 0, "seed \(seed)")
                earned[card.value, default: 0] += result.points + (result.firstPurchaseBonus ?? 0)
                let reached = program.tier(for: TierProgress(spendMinorUnits: 0, pointsEarned: earned[card.value]!))
                tier[card.value] = reached.threshold > before.threshold ? reached : before
                #expect(
                    result.tier == tier[card.value]!.name, "the sale that reaches a tier gives it at once; seed \(seed)"
                )
                sales.append((receipt, card, amount, 0, lines, lines.map(\.amountMinor)))
            case 5..<7:
                let balance = try ledger.member(card: card).balance
                guard balance > 0 else { continue }
                _ = try ledger.redeem(
                    card: card, points: Int64.random(in: 1...balance, using: &random),
                    receipt: ReceiptReference("X\(step)"))
            default:
                guard !sales.isEmpty else { continue }
                let index = Int.random(in: 0..<sales.count, using: &random)
                let sale = sales[index]
                guard sale.refunded < sale.amount else { continue }
                let open = sale.left.indices.filter { sale.left[$0] > 0 }
                let line = open.randomElement(using: &random)!
                let part = Bool.random(using: &random) ? sale.left[line] : Int64.random(in: 1...sale.left[line], using: &random)
                // SKUs are unique within a sale here, so the return takes from exactly this line.
                let refund = try ledger.refund(
                    receipt: ReceiptReference(sale.receipt), amount: nil,
                    lines: [LineReturn(sku: sale.lines[line].sku, amountMinor: part)], returnReceipt: ReceiptReference("RET\(step)"))
                sales[index].refunded += part
                sales[index].left[line] -= part
                earned[sale.card.value, default: 0] += refund.reversedPoints + refund.reversedBonusPoints
            }
            let view = try ledger.member(card: card)
            let expectedTier = tier[card.value] ?? program.tiers[0]
            #expect(view.rollingPointsEarned == earned[card.value, default: 0], "seed \(seed), step \(step)")
            #expect(view.tier == expectedTier.name, "no downgrade at the till; seed \(seed), step \(step)")
            if let next = program.nextTier(
                current: expectedTier,
                progress: TierProgress(spendMinorUnits: 0, pointsEarned: view.rollingPointsEarned))
            {
                #expect(view.nextTier == next.tier.name && view.pointsToNextTier == next.missing && next.missing > 0)
            } else {
                #expect(view.nextTier == nil && view.pointsToNextTier == nil)
            }
            #expect(view.spendToNextTier == nil)
        }
        #expect(try ledger.verify().ok, "balance == Σ entries; seed \(seed)")
    }
}
