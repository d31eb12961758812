/// Head office's tier review: every member's tier recomputed from their 12-month spend as of a day,
/// so a member whose spend fell moves down (the only time a member moves down).
public enum TierReview {
    /// The tier of each member: the highest tier whose threshold their window spend reaches, or whose
    /// `topPercent` covers their rank (members with spend, by spend descending, ties by card; the top
    /// ⌈p·n/100⌉ of n).
    public static func tiers(_ members: [MemberFacts], program: LoyaltyProgram) -> [Int64: String] {
        let ranked = members.filter { $0.windowSpendMinorUnits > 0 }.sorted {
            $0.windowSpendMinorUnits != $1.windowSpendMinorUnits
                ? $0.windowSpendMinorUnits > $1.windowSpendMinorUnits : $0.card < $1.card
        }
        var rank: [Int64: Int] = [:]
        for (index, member) in ranked.enumerated() { rank[member.memberId] = index + 1 }
        let n = ranked.count
        var result: [Int64: String] = [:]
        for member in members {
            var tier = program.tier(forRollingSpend: member.windowSpendMinorUnits)
            if let position = rank[member.memberId] {
                for candidate in program.tiers where candidate.minimumRollingSpendMinorUnits > tier.minimumRollingSpendMinorUnits {
                    if let percent = candidate.topPercent, position <= (percent * n + 99) / 100 { tier = candidate }
                }
            }
            result[member.memberId] = tier.name
        }
        return result
    }
}
