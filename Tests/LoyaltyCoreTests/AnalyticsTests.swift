import LoyaltyCore
import TestSupport
import Testing

/// The pure segment and model definitions: properties every correct implementation has.
@Suite struct AnalyticsTests {
    let settings = AnalyticsSettings()

    func member(_ id: Int64, firstSeen: Int, sales: [(day: Int, net: Int64)] = [], asOf: Int) -> MemberFacts {
        var builder = MemberFactsBuilder(
            asOfDay: asOf, members: [MemberFacts(memberId: id, card: "c\(id)", firstSeenDay: firstSeen)])
        for sale in sales.sorted(by: { $0.day < $1.day }) {
            builder.add(SaleFact(memberId: id, storeId: "S", day: sale.day, netMinorUnits: sale.net, incentive: false))
        }
        return builder.facts()[0]
    }

    @Test func aMemberWhoEnrolsAndNeverBuysMovesFromNewToChurnedByTheEnrolmentDay() {
        let stages = [0, 30, 31, 120, 121, 365, 366].map { age in
            LifecycleAnalysis.stage(member(1, firstSeen: 1000, asOf: 1000 + age), asOfDay: 1000 + age, settings: settings)
        }
        #expect(stages == [.new, .new, .atRisk, .atRisk, .dormant, .dormant, .churned])
    }

    @Test func lifecycleFollowsDaysSinceTheLastSaleAtTheBoundaries() {
        let stages = [60, 61, 120, 121, 365, 366].map { days in
            LifecycleAnalysis.stage(
                member(1, firstSeen: 0, sales: [(10, 100), (500, 100)], asOf: 500 + days), asOfDay: 500 + days, settings: settings)
        }
        #expect(stages == [.active, .atRisk, .atRisk, .dormant, .dormant, .churned])
    }

    /// Defect (issue 23): ties took the worse score, so in a small chain where everyone bought once every
    /// member scored F = 1, "the least frequent". Ties now share the better score: with five members,
    /// four who bought once (three others no better each: 1 + 5·3/5 = 4) and one who bought twice (5).
    @Test func rfmTiesShareTheBetterScore() {
        let asOf = 2000
        let once = (1...4).map { member(Int64($0), firstSeen: 1000, sales: [(day: 1990, net: 1000)], asOf: asOf) }
        let twice = member(5, firstSeen: 1000, sales: [(day: 1990, net: 1000), (day: 1995, net: 1000)], asOf: asOf)
        let scores = Dictionary(
            uniqueKeysWithValues: RFMAnalysis.scores(once + [twice], asOfDay: asOf, settings: settings).map { ($0.card, $0) })
        for card in ["c1", "c2", "c3", "c4"] {
            #expect(scores[card]?.frequencyScore == 4 && scores[card]?.monetaryScore == 4, "\(String(describing: scores[card]))")
            #expect(scores[card]?.recencyScore == 4, "10 days: the three others who last bought that day are no better")
        }
        #expect(scores["c5"]?.frequencyScore == 5 && scores["c5"]?.monetaryScore == 5 && scores["c5"]?.recencyScore == 5)
    }

    @Test func rfmScoresAreOneToFiveTiesShareAScoreAndBetterNeverScoresLower() {
        var random = SeededRandom(seed: TestSeed.make("rfmScores"))
        let asOf = 2000
        for _ in 0..<30 {
            let members = (0..<Int.random(in: 1...300, using: &random)).map { index in
                member(
                    Int64(index), firstSeen: 1000,
                    sales: (0..<Int.random(in: 1...6, using: &random)).map { _ in
                        (Int.random(in: 1700...2000, using: &random), Int64.random(in: 1...5, using: &random) * 1000)
                    }, asOf: asOf)
            }
            let scores = RFMAnalysis.scores(members, asOfDay: asOf, settings: settings)
            #expect(scores.count == members.count)
            for first in scores {
                #expect((1...5).contains(first.recencyScore) && (1...5).contains(first.frequencyScore))
                for second in scores.prefix(40) {
                    if first.recencyDays == second.recencyDays { #expect(first.recencyScore == second.recencyScore) }
                    if first.recencyDays < second.recencyDays { #expect(first.recencyScore >= second.recencyScore) }
                    if first.frequency > second.frequency { #expect(first.frequencyScore >= second.frequencyScore) }
                    if first.monetaryMinor > second.monetaryMinor { #expect(first.monetaryScore >= second.monetaryScore) }
                }
            }
        }
    }

    @Test func loyaltyTypesFollowBehaviourAndAttitude() {
        let asOf = 1000
        // Ten regular buyers make behaviour high for the best of them; attitude comes from referrals or feedback.
        var members = (1...10).map { id in
            member(Int64(id), firstSeen: 0, sales: (0..<Int(id)).map { (asOf - 20 * $0 - (10 - Int(id)), 1000) }, asOf: asOf)
        }
        members[9].referrals = 2  // fanatic
        members[8].averageFeedback = 4.5  // firm
        members[7].windowIncentiveSales = members[7].windowSales  // mercenary
        members[0].referrals = 1  // latent: likes the chain, rarely buys
        let types = Dictionary(
            uniqueKeysWithValues: LoyaltyTypeAnalysis.types(members, asOfDay: asOf, settings: settings).map { ($0.card, $0) })
        #expect(types["c10"]?.type == .fanatic)
        #expect(types["c9"]?.type == .firm)
        #expect(types["c8"]?.type == .mercenary)
        #expect(types["c7"]?.type == .inertia)
        #expect(types["c1"]?.type == .latent)
        #expect(types["c2"]?.type == LoyaltyType.none)
        // Engagement: profile 0 + behaviour 60·(R+F+M−3)/12 + attitude 10 + 10·(4.5−1)/4.
        let score = RFMAnalysis.scores(members, asOfDay: asOf, settings: settings).first { $0.card == "c9" }!
        let behaviour = 60 * Double(score.recencyScore + score.frequencyScore + score.monetaryScore - 3) / 12
        #expect(types["c9"]?.engagement == Int((behaviour + 8.75 + 0.5).rounded(.down)))
    }

    @Test func theFittedBGNBDIsAMaximumAndItsPredictionsBehave() throws {
        var random = SeededRandom(seed: TestSeed.make("bgnbd"))
        let histories = (0..<800).map { _ -> RepeatPurchaseHistory in
            let age = Double.random(in: 1...52, using: &random)
            let frequency = Double(Int.random(in: 0...8, using: &random))
            let recency = frequency == 0 ? 0 : Double.random(in: 0...age, using: &random)
            return RepeatPurchaseHistory(frequency: frequency, recency: recency, age: age)
        }
        let model = try BetaGeometricNBD.fit(histories)
        #expect(abs(model.logLikelihood - model.logLikelihood(of: histories)) < 1e-6 * abs(model.logLikelihood))
        for _ in 0..<50 {
            var nearby = model
            nearby.r *= Double.random(in: 0.97...1.03, using: &random)
            nearby.alpha *= Double.random(in: 0.97...1.03, using: &random)
            nearby.a *= Double.random(in: 0.97...1.03, using: &random)
            nearby.b *= Double.random(in: 0.97...1.03, using: &random)
            #expect(nearby.logLikelihood(of: histories) <= model.logLikelihood + 1e-6, "the fit is a maximum")
        }
        let quiet = RepeatPurchaseHistory(frequency: 4, recency: 10, age: 20)
        let longer = RepeatPurchaseHistory(frequency: 4, recency: 10, age: 40)
        #expect(model.probabilityAlive(RepeatPurchaseHistory(frequency: 0, recency: 0, age: 30)) == 1)
        #expect(model.probabilityAlive(longer) < model.probabilityAlive(quiet), "a longer silence lowers P(alive)")
        #expect(model.expectedPurchases(quiet, weeks: 52) > model.expectedPurchases(quiet, weeks: 26))
        #expect(model.expectedPurchases(quiet, weeks: 26) > 0)
    }

    /// Found by attack: one member's sales of 9,999,999,999.99 beside a few small ones printed `clv=inf` and
    /// an empty `--json`. The report gives finite numbers or refuses with what it needs.
    @Test func lifetimeValueIsFiniteOrRefused() throws {
        let huge: Int64 = 999_999_999_999
        let histories: [[MemberFacts]] = [
            [
                member(1, firstSeen: 100, sales: [(100, huge), (200, huge), (300, huge)], asOf: 1000),
                member(2, firstSeen: 100, sales: [(100, 500), (300, 700)], asOf: 1000),
                member(3, firstSeen: 100, sales: [(150, 300), (400, 200)], asOf: 1000),
            ],
            [
                member(1, firstSeen: 100, sales: [(100, huge)], asOf: 1000),
                member(2, firstSeen: 100, sales: [(100, 500), (300, 500)], asOf: 1000),
                member(3, firstSeen: 100, sales: [(150, 300), (400, 300)], asOf: 1000),
            ],
            // The attack's history: a member of six huge sales, one of two sales of 0.01, one of a single sale.
            [
                member(1, firstSeen: 100, sales: (0..<6).map { (100 + $0, huge) }, asOf: 1000),
                member(2, firstSeen: 100, sales: [(100, 1), (101, 1)], asOf: 1000),
                member(3, firstSeen: 100, sales: [(150, 1_000)], asOf: 1000),
            ],
            [
                member(1, firstSeen: 100, sales: [(100, huge), (101, 100)], asOf: 1000),
                member(2, firstSeen: 100, sales: [(100, 100), (300, 100)], asOf: 1000),
                member(3, firstSeen: 100, sales: [(150, 100)], asOf: 1000),
            ],
        ]
        for facts in histories {
            do {
                let report = try LifetimeValueReport(facts, asOfDay: 1000, settings: settings)
                for row in report.members {
                    #expect(row.clv.isFinite && row.expectedSaleValue.isFinite && row.pAlive.isFinite, "\(row)")
                }
            } catch {
                #expect(error.code == "model_without_finite_value" || error.code == "not_enough_history", "\(error)")
            }
        }
    }

    @Test func superUsersOfHugeSpendsNeitherOverflowNorMiscount() {
        // Totals near Int64.max: the 80 % comparison is done in full width.
        let spends: [Int64] = [Int64.max / 4, Int64.max / 4, Int64.max / 8, Int64.max / 8, 1]
        let members = spends.enumerated().map { index, spend in
            member(Int64(index), firstSeen: 0, sales: [(990, spend)], asOf: 1000)
        }
        let result = SuperUsers(members, settings: settings)
        // 1/4 + 1/4 = 2/3 of the total; with the first 1/8 it is 5/6: three members.
        #expect(result.n == 5 && result.k == 3)
        #expect(abs(result.share - 5.0 / 6.0) < 1e-9)
    }

    @Test func settingsRefuseNonsenseWithTheKeyAndReason() {
        var settings = AnalyticsSettings()
        #expect(throws: LoyaltyError.self) { try settings.set("margin", to: "1.5", isKnownTimeZone: { _ in true }) }
        #expect(throws: LoyaltyError.self) { try settings.set("active_days", to: "400", isKnownTimeZone: { _ in true }) }
        #expect(throws: LoyaltyError.self) { try settings.set("colour", to: "blue", isKnownTimeZone: { _ in true }) }
        #expect(settings == AnalyticsSettings(), "a refused value changes nothing")
    }
}
