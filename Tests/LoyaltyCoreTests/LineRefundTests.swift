import LoyaltyCore
import TestSupport
import Testing

/// What each line of a sale earned, and returns that take back exactly that, in any split.
@Suite struct LineRefundTests {
    /// Defect: a sale of fresh 1000.00 (2000 points) and gift cards 1000.00 (0 points) — returning the gift
    /// cards took back 1000 points they never earned.
    @Test func aLineThatEarnedNothingTakesNothingBack() throws {
        let program = EarningTests.program { $0.excludedCategories = ["gift_cards"] }
        let lines = [
            SaleLine(sku: "salad", category: "fresh", amountMinor: 100_000),
            SaleLine(sku: "gift", category: "gift_cards", amountMinor: 100_000),
        ]
        let shares = program.linePoints(lines, totalPoints: 2_000)
        #expect(shares == [2_000, 0])
        let states = zip(lines, shares).map { SaleLineState(sku: $0.sku, amountMinor: $0.amountMinor, points: $1) }
        #expect(try LineRefundPlan.plan(states, returns: [LineReturn(sku: "gift", amountMinor: 100_000)]).points == 0)
        #expect(
            try LineRefundPlan.plan(states, returns: [LineReturn(sku: "salad", amountMinor: 100_000)]).points == 2_000)
    }

    @Test func returnsInAnySplitAddUpToWhatEachLineEarned() throws {
        var random = SeededRandom(seed: TestSeed.make("line returns"))
        let program = EarningTests.program { _ in }
        for _ in 0..<2_000 {
            let lines = (0..<Int.random(in: 1...5, using: &random)).map { index in
                SaleLine(
                    sku: "sku\(index % 3)", category: ["fresh", "tobacco", "household"].randomElement(using: &random)!,
                    amountMinor: Int64.random(in: 1...50_000, using: &random))
            }
            // A sale of excluded lines only earns nothing.
            let total =
                lines.allSatisfy { $0.category == "tobacco" } ? 0 : Int64.random(in: 0...100_000, using: &random)
            let shares = program.linePoints(lines, totalPoints: total)
            #expect(shares.reduce(0, +) == total && shares.allSatisfy { $0 >= 0 })
            #expect(
                zip(lines, shares).allSatisfy { $0.category != "tobacco" || $1 == 0 }, "an excluded line earned nothing"
            )
            var states = zip(lines, shares).map { SaleLineState(sku: $0.sku, amountMinor: $0.amountMinor, points: $1) }
            // Return random pieces of random lines until everything is back.
            var rounds = 0
            while states.contains(where: { $0.returnedMinor < $0.amountMinor }) && rounds < 50 {
                rounds += 1
                let open = states.indices.filter { states[$0].returnedMinor < states[$0].amountMinor }
                let index = open.randomElement(using: &random)!
                let left = states[index].amountMinor - states[index].returnedMinor
                // Returns by SKU: several lines may share one; the plan fills them in order.
                let sameSku = states.filter { $0.sku == states[index].sku }.reduce(Int64(0)) {
                    $0 + $1.amountMinor - $1.returnedMinor
                }
                let amount =
                    Bool.random(using: &random)
                    ? sameSku : Int64.random(in: 1...max(1, min(left, sameSku)), using: &random)
                let plan = try LineRefundPlan.plan(
                    states, returns: [LineReturn(sku: states[index].sku, amountMinor: amount)])
                #expect(plan.amountMinor == amount)
                for part in plan.parts {
                    states[part.line].returnedMinor += part.amountMinor
                    states[part.line].reversedPoints += part.points
                    #expect(states[part.line].reversedPoints <= states[part.line].points)
                }
            }
            if !states.contains(where: { $0.returnedMinor < $0.amountMinor }) {
                #expect(states.map(\.reversedPoints) == shares, "every line gave back exactly what it earned")
            } else {
                let rest = try LineRefundPlan.plan(states, returns: nil)
                #expect(rest.points == total - states.reduce(0) { $0 + $1.reversedPoints })
            }
        }
    }

    @Test func returnsBeyondTheLineOrOfUnknownArticlesAreRefused() throws {
        let states = [SaleLineState(sku: "a", amountMinor: 500, points: 5)]
        #expect(throws: LoyaltyError.self) {
            try LineRefundPlan.plan(states, returns: [LineReturn(sku: "a", amountMinor: 501)])
        }
        #expect(throws: LoyaltyError.self) {
            try LineRefundPlan.plan(states, returns: [LineReturn(sku: "b", amountMinor: 1)])
        }
        #expect(throws: LoyaltyError.self) {
            try LineRefundPlan.plan(states, returns: [LineReturn(sku: "a", amountMinor: 0)])
        }
        let done = [SaleLineState(sku: "a", amountMinor: 500, points: 5, returnedMinor: 500, reversedPoints: 5)]
        #expect(throws: LoyaltyError.self) { try LineRefundPlan.plan(done, returns: nil) }
    }
}
