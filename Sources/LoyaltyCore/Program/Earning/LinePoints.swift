extension LoyaltyProgram {
    /// What each of a sale's `lines` earned of its `totalPoints`: shares by each line's weight (its amount
    /// times its category multiplier; nothing for an excluded category), the largest remainders getting
    /// the odd points, so the shares add up to exactly `totalPoints`. A return of a line then takes back
    /// what that line earned, never what another line earned.
    public func linePoints(_ lines: [SaleLine], totalPoints: Int64) -> [Int64] {
        precondition(totalPoints >= 0, "a sale earns no negative points")
        let rules = earningRules ?? EarningRules()
        let excluded = Set(rules.excludedCategories)
        let weights = lines.map { line -> Int128 in
            guard !excluded.contains(line.category), line.amountMinor > 0 else { return 0 }
            return Int128(line.amountMinor) * Int128(rules.categoryMultiplierPercent[line.category] ?? 100)
        }
        let total = weights.reduce(0, +)
        guard total > 0 else { return lines.map { _ in 0 } }
        var shares = weights.map { Int64(Int128(totalPoints) * $0 / total) }
        let remainders = weights.map { Int128(totalPoints) * $0 % total }
        var left = totalPoints - shares.reduce(0, +)
        // Ties go to the earlier line: the same sale always splits the same way.
        for index in remainders.indices.sorted(by: { (remainders[$0], -$0) > (remainders[$1], -$1) }) where left > 0 {
            shares[index] += 1
            left -= 1
        }
        assert(shares.reduce(0, +) == totalPoints, "the lines' shares add up to the sale's points")
        return shares
    }
}
