import TestSupport
import Testing

@testable import LoyaltyCore

@Suite struct ProgramTests {
    let program = LoyaltyProgram.standard()

    @Test func onePointPerWholeUnitRoundedDown() throws {
        let base = program.tiers[0]
        #expect(try program.pointsEarned(for: Money(parsing: "12.99", currency: .euro), tier: base) == 12)
        #expect(try program.pointsEarned(for: Money(parsing: "0.99", currency: .euro), tier: base) == 0)
        #expect(try program.pointsEarned(for: Money(parsing: "100", currency: .euro), tier: base) == 100)
    }

    @Test func earningMatchesIntegerArithmeticForRandomSales() throws {
        var random = SeededRandom(seed: 3)
        let doubleTier = Tier(name: "double", threshold: 0, earnMultiplierPercent: 250)
        for _ in 0..<20_000 {
            let minor = Int64.random(in: 1...Money.maximumMinorUnits, using: &random)
            let amount = Money(minorUnits: minor, currency: .euro)
            #expect(try program.pointsEarned(for: amount, tier: program.tiers[0]) == minor / 100)
            // One formula: the base rounded, then the tier's extra on the base rounded.
            #expect(try program.pointsEarned(for: amount, tier: doubleTier) == minor / 100 + (minor / 100) * 150 / 100)
        }
    }

    @Test func roundingRules() {
        #expect(Rounding.down.scale(199, by: 1, dividedBy: 100) == 1)
        #expect(Rounding.halfUp.scale(150, by: 1, dividedBy: 100) == 2)
        #expect(Rounding.halfUp.scale(149, by: 1, dividedBy: 100) == 1)
        #expect(Rounding.up.scale(101, by: 1, dividedBy: 100) == 2)
        #expect(Rounding.up.scale(100, by: 1, dividedBy: 100) == 1)
    }

    @Test func tiersUpgradeAtOnceAndNeverDowngradeOnPurchase() {
        let gold = program.tier(named: "gold")
        #expect(program.tier(for: TierProgress(spendMinorUnits: 0, pointsEarned: 9_999_999)).name == "base")
        #expect(program.tier(for: TierProgress(spendMinorUnits: 50_000, pointsEarned: 0)).name == "silver")
        #expect(program.tier(for: TierProgress(spendMinorUnits: 49_999, pointsEarned: 0)).name == "base")
        #expect(program.tierAfterPurchase(current: program.tiers[0], progress: TierProgress(spendMinorUnits: 150_000, pointsEarned: 0)).name == "gold")
        #expect(program.tierAfterPurchase(current: gold, progress: TierProgress(spendMinorUnits: 10, pointsEarned: 0)).name == "gold")
    }

    @Test func redemptionNeverExceedsTheBalance() throws {
        #expect(try program.redemptionValue(points: 50, vouchedBalance: 50).minorUnits == 50)
        #expect(throws: LoyaltyError.self) { try program.redemptionValue(points: 51, vouchedBalance: 50) }
        #expect(throws: LoyaltyError.self) { try program.redemptionValue(points: 0, vouchedBalance: 50) }
        #expect(throws: LoyaltyError.self) { try program.redemptionValue(points: 1, vouchedBalance: -5) }
        var stepped = program
        stepped.minimumRedemptionPoints = 100
        stepped.redemptionStepPoints = 50
        #expect(throws: LoyaltyError.self) { try stepped.redemptionValue(points: 75, vouchedBalance: 1000) }
        #expect(throws: LoyaltyError.self) { try stepped.redemptionValue(points: 125, vouchedBalance: 1000) }
        #expect(try stepped.redemptionValue(points: 150, vouchedBalance: 1000).minorUnits == 150)
    }

    /// Any sequence of partial refunds takes back exactly floor(earned·refunded/sale) so far, all of it
    /// at the end, never more; redeemed points come back the same way.
    @Test func partialRefundsArePaidOutProRataAndNeverExceedWhatWasEarned() throws {
        var random = SeededRandom(seed: 11)
        for _ in 0..<5_000 {
            let sale = Int64.random(in: 1...10_000_000, using: &random)
            let earned = sale / 100
            let redeemed = Int64.random(in: 0...500, using: &random)
            var state = SaleRefundState(saleMinorUnits: sale, earnedPoints: earned, redeemedPoints: redeemed)
            while !state.isFullyRefunded {
                let remaining = sale - state.refundedMinorUnits
                let amount: Int64? = Bool.random(using: &random) ? Int64.random(in: 1...remaining, using: &random) : nil
                let plan = try RefundPlan.plan(state, amountMinorUnits: amount)
                state.refundedMinorUnits += plan.refundMinorUnits
                state.reversedEarnPoints += plan.reverseEarnPoints
                state.restoredRedeemPoints += plan.restoreRedeemPoints
                #expect(plan.reverseEarnPoints >= 0 && plan.restoreRedeemPoints >= 0)
                #expect(state.reversedEarnPoints <= earned)
                #expect(state.reversedEarnPoints == (state.refundedMinorUnits == sale ? earned : earned * state.refundedMinorUnits / sale))
            }
            #expect(state.reversedEarnPoints == earned && state.restoredRedeemPoints == redeemed)
            #expect(throws: LoyaltyError.self) { try RefundPlan.plan(state, amountMinorUnits: nil) }
        }
    }

    @Test func refundsBeyondTheSaleAreRefused() {
        let state = SaleRefundState(saleMinorUnits: 1000, earnedPoints: 10, redeemedPoints: 0, refundedMinorUnits: 600, reversedEarnPoints: 6)
        #expect(throws: LoyaltyError.self) { try RefundPlan.plan(state, amountMinorUnits: 401) }
        #expect(throws: LoyaltyError.self) { try RefundPlan.plan(state, amountMinorUnits: 0) }
        let redemptionOnly = SaleRefundState(saleMinorUnits: 0, earnedPoints: 0, redeemedPoints: 40)
        #expect(throws: LoyaltyError.self) { try RefundPlan.plan(redemptionOnly, amountMinorUnits: 10) }
        #expect((try? RefundPlan.plan(redemptionOnly, amountMinorUnits: nil))?.restoreRedeemPoints == 40)
    }
}
