/// Where a member is in their life with the chain on the as-of date.
public enum LifecycleStage: String, Hashable, Sendable, Codable, CaseIterable {
    /// Enrolled (or first seen) at most `newMemberDays` before.
    case new
    /// Last sale at most `activeDays` before.
    case active
    /// Last sale `activeDays + 1` … `atRiskDays` before.
    case atRisk = "at_risk"
    /// Last sale `atRiskDays + 1` … `dormantDays` before.
    case dormant
    /// Last sale more than `dormantDays` before, or no sale and enrolled more than `dormantDays` before.
    case churned
}

public struct MemberStage: Hashable, Sendable, Codable {
    public var card: String
    public var stage: LifecycleStage
    /// Days since the last sale; nil when the member never bought.
    public var daysSinceLastSale: Int?
    public var daysSinceEnrolment: Int
    public var lastStore: String?
}

public enum LifecycleAnalysis {
    /// First match in the order of ``LifecycleStage``. A member who enrolled and never bought is
    /// measured from the enrolment day: at risk, then dormant, then churned, as if enrolling were a visit
    /// (never `active`: a member is active only by buying).
    public static func stage(_ member: MemberFacts, asOfDay: Int, settings: AnalyticsSettings) -> LifecycleStage {
        let sinceEnrolment = asOfDay - member.firstSeenDay
        if sinceEnrolment <= settings.newMemberDays { return .new }
        guard let lastSaleDay = member.lastSaleDay else {
            if sinceEnrolment <= settings.atRiskDays { return .atRisk }
            return sinceEnrolment <= settings.dormantDays ? .dormant : .churned
        }
        let days = asOfDay - lastSaleDay
        if days <= settings.activeDays { return .active }
        if days <= settings.atRiskDays { return .atRisk }
        if days <= settings.dormantDays { return .dormant }
        return .churned
    }

    public static func stages(_ members: [MemberFacts], asOfDay: Int, settings: AnalyticsSettings) -> [MemberStage] {
        members.map {
            MemberStage(
                card: $0.card, stage: stage($0, asOfDay: asOfDay, settings: settings),
                daysSinceLastSale: $0.lastSaleDay.map { asOfDay - $0 }, daysSinceEnrolment: asOfDay - $0.firstSeenDay,
                lastStore: $0.lastSaleStore)
        }.sorted { $0.card < $1.card }
    }
}
