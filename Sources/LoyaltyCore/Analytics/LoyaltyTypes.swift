/// The two-dimensional loyalty model: behavioural loyalty (how a member buys) × attitudinal
/// loyalty (what they feel and say).
public enum LoyaltyType: String, Hashable, Sendable, Codable, CaseIterable {
    /// Low behaviour, low attitude.
    case none
    /// High behaviour driven by incentives: ≥ 50 % of window sales redeemed points or fell in a promotion.
    case mercenary
    /// High behaviour out of habit, low attitude.
    case inertia
    /// High attitude, low behaviour: likes the chain, buys elsewhere.
    case latent
    /// High behaviour, high attitude.
    case firm
    /// Firm and referred at least two members.
    case fanatic
}

public struct MemberLoyalty: Hashable, Sendable, Codable {
    public var card: String
    public var type: LoyaltyType
    public var behaviourHigh: Bool
    public var attitudeHigh: Bool
    /// 0–100, see ``LoyaltyTypeAnalysis/engagement(_:score:)``.
    public var engagement: Int
}

public enum LoyaltyTypeAnalysis {
    /// Every member, ordered by card. Behaviour is high when the RFM recency and frequency scores are
    /// both ≥ 3; attitude is high when the member referred someone or their average kiosk answer is ≥ 4.
    public static func types(_ members: [MemberFacts], asOfDay: Int, settings: AnalyticsSettings) -> [MemberLoyalty] {
        let scores = Dictionary(
            RFMAnalysis.scores(members, asOfDay: asOfDay, settings: settings).map { ($0.card, $0) },
            uniquingKeysWith: { first, _ in first })
        return members.map { member in
            let score = scores[member.card]
            let behaviour = score.map { $0.recencyScore >= 3 && $0.frequencyScore >= 3 } ?? false
            let attitude = member.referrals > 0 || (member.averageFeedback ?? 0) >= 4
            let type: LoyaltyType
            switch (behaviour, attitude) {
            case (false, false): type = .none
            case (false, true): type = .latent
            case (true, false): type = 2 * member.windowIncentiveSales >= member.windowSales ? .mercenary : .inertia
            case (true, true): type = member.referrals >= 2 ? .fanatic : .firm
            }
            return MemberLoyalty(
                card: member.card, type: type, behaviourHigh: behaviour, attitudeHigh: attitude,
                engagement: engagement(member, score: score))
        }.sorted { $0.card < $1.card }
    }

    /// Engagement, 0–100 = profile (20) + behaviour (60) + attitude (20):
    /// - profile: 10 for a name, 10 for a birthday given at enrolment (explicit data);
    /// - behaviour: 60 × (R + F + M − 3) / 12 from the RFM scores, 0 without a sale in the window;
    /// - attitude: 10 for having referred anyone, plus 10 × (average kiosk answer − 1) / 4.
    /// Rounded half up to a whole number.
    public static func engagement(_ member: MemberFacts, score: RFMScore?) -> Int {
        var total = 0.0
        if let name = member.name, !name.isEmpty { total += 10 }
        if let birthday = member.birthday, !birthday.isEmpty { total += 10 }
        if let score {
            total += 60 * Double(score.recencyScore + score.frequencyScore + score.monetaryScore - 3) / 12
        }
        if member.referrals > 0 { total += 10 }
        if let feedback = member.averageFeedback { total += 10 * (min(max(feedback, 1), 5) - 1) / 4 }
        return Int((total + 0.5).rounded(.down))
    }
}
