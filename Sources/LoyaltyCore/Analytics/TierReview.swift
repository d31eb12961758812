/// Head office's tier review: every member's tier recomputed from their 12-month figures as of a day
/// (spend, or points earned when the program's tiers count points), so a member whose figure fell
/// moves down (the only time a member moves down).
public enum TierReview {
    /// Percentile tiers (`topPercent`) are granted only when at least this many members have a 12-month
    /// figure: in a smaller chain "the top 5 %" is one member picked by chance.
    public static let minimumRankedMembersForPercentileTiers = 20

    /// Members with a 12-month figure above zero (those a percentile tier ranks).
    public static func rankedMembers(_ members: [MemberFacts], program: LoyaltyProgram) -> Int {
        members.filter {
            program.tierMeasure(
                TierProgress(spendMinorUnits: $0.windowSpendMinorUnits, pointsEarned: $0.windowPointsEarned)) > 0
        }.count
    }

    /// Whether the review grants the program's percentile tiers to `members` (false when the program has
    /// none, or too few members are ranked: see ``minimumRankedMembersForPercentileTiers``).
    public static func grantsPercentileTiers(_ members: [MemberFacts], program: LoyaltyProgram) -> Bool {
        program.tiers.contains { $0.topPercent != nil }
            && rankedMembers(members, program: program) >= minimumRankedMembersForPercentileTiers
    }

    /// The tier of each member: the highest tier whose threshold their window figure reaches, or whose
    /// `topPercent` covers their rank (members with a figure above zero, by it descending, ties by
    /// card; the top ⌈p·n/100⌉ of n, when n reaches ``minimumRankedMembersForPercentileTiers``).
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
            if n >= minimumRankedMembersForPercentileTiers, let position = rank[member.memberId] {
                for candidate in program.tiers where candidate.threshold > tier.threshold {
                    if let percent = candidate.topPercent, position <= (percent * n + 99) / 100 { tier = candidate }
                }
            }
            result[member.memberId] = tier.name
        }
        return result
    }
}
