/// Head office's tier review: every member's tier recomputed from their 12-month figures as of a day
/// (spend, or points earned when the program's tiers count points), so a member whose figure fell
/// moves down (the only time a member moves down).
public enum TierReview {
    /// The tier of each member: the highest tier whose threshold their window figure reaches, or whose
    /// `topPercent` covers their rank (members with a figure above zero, by it descending, ties by
    /// card; the top ⌈p·n/100⌉ of n).
    public static func tiers(_ members: [MemberFacts], program: LoyaltyProgram) -> [Int64: String] {
        func measure(_ member: MemberFacts) -> Int64 {
            program.tierMeasure(
                TierProgress(spendMinorUnits: member.windowSpendMinorUnits, pointsEarned: member.windowPointsEarned))
        }
        let measured: [(member: MemberFacts, measure: Int64)] = members.map { ($0, measure($0)) }
        let ranked = measured.filter { $0.measure > 0 }.sorted { (left, right) -> Bool in
            left.measure != right.measure ? left.measure > right.measure : left.member.card < right.member.card
        }
        var rank: [Int64: Int] = [:]
        for (index, entry) in ranked.enumerated() { rank[entry.member.memberId] = index + 1 }
        let n = ranked.count
        var result: [Int64: String] = [:]
        for member in members {
            var tier = program.tier(
                for: TierProgress(
                    spendMinorUnits: member.windowSpendMinorUnits, pointsEarned: member.windowPointsEarned))
            if let position = rank[member.memberId] {
                for candidate in program.tiers where candidate.threshold > tier.threshold {
                    if let percent = candidate.topPercent, position <= (percent * n + 99) / 100 { tier = candidate }
                }
            }
            result[member.memberId] = tier.name
        }
        return result
    }
}
