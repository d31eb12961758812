/// What the cashier should know about a member at the till, from head office's segments. Published
/// with `loyalty-hq segments publish` and pushed down with the member snapshots.
public enum MemberFlag: String, Hashable, Sendable, Codable, CaseIterable {
    /// Enrolled (or first seen) in the last `newMemberDays` days: greet them.
    case newMember = "new_member"
    /// Last visit `activeDays + 1` … `atRiskDays` days ago.
    case atRisk = "at_risk"
    /// Dormant or churned: "welcome back".
    case welcomeBack = "welcome_back"
    /// Among the few members who carry most of the spend.
    case superUser = "super_user"
    /// At least two sales and P(alive) below the churn threshold: their visit rhythm broke.
    case churnRisk = "churn_risk"

    /// The cashier's words for the flag.
    public var advice: String {
        switch self {
        case .newMember: return "new member: welcome them"
        case .atRisk: return "not seen for a while: make them feel valued"
        case .welcomeBack: return "dormant: welcome back"
        case .superUser: return "one of our best customers"
        case .churnRisk: return "visits have stopped: churn risk"
        }
    }
}

public enum MemberFlags {
    /// Each member's flags on the as-of date. `churnWarnings` are the cards on the churn list
    /// (empty when the lifetime-value models could not be fitted).
    public static func flags(
        _ members: [MemberFacts], asOfDay: Int, settings: AnalyticsSettings, churnWarnings: Set<String>
    ) -> [Int64: [MemberFlag]] {
        let superUsers = Set(SuperUsers(members, settings: settings).members.map(\.card))
        var result: [Int64: [MemberFlag]] = [:]
        for member in members {
            var flags: [MemberFlag] = []
            switch LifecycleAnalysis.stage(member, asOfDay: asOfDay, settings: settings) {
            case .new: flags.append(.newMember)
            case .atRisk: flags.append(.atRisk)
            case .dormant, .churned: flags.append(.welcomeBack)
            case .active: break
            }
            if superUsers.contains(member.card) { flags.append(.superUser) }
            if churnWarnings.contains(member.card) { flags.append(.churnRisk) }
            if !flags.isEmpty { result[member.memberId] = flags }
        }
        return result
    }

    /// Stored form: comma-separated names, nil for none.
    public static func encode(_ flags: [String]) -> String? { flags.isEmpty ? nil : flags.joined(separator: ",") }

    public static func decode(_ text: String?) -> [String]? {
        guard let text, !text.isEmpty else { return nil }
        return text.split(separator: ",").map(String.init)
    }
}
