import TestSupport
import Foundation
import HeadOffice
import LoyaltyCore
import SyncProtocol
import Testing

/// Program files, their versions at head office, and what a pull carries.
@Suite struct ProgramVersionTests {
    static var example: String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("sync/examples/program.yaml"), encoding: .utf8)) ?? ""
    }

    static func file(validFrom: String, pointsPerUnit: Int = 1) -> String {
        """
        valid_from: \(validFrom)
        earning: {points_per_unit: \(pointsPerUnit), rounding: down}
        tiers:
          - {name: base, min_rolling_spend: "0", earn_multiplier_percent: 100}
        redemption: {point_value_minor: 1, minimum_points: 1, step_points: 1}
        """
    }

    @Test func theExampleProgramReadsAsDocumented() throws {
        let program = try ProgramFile.parse(Self.example).program(version: 2)
        #expect(program.validFromMilliseconds == 1_767_225_600_000)
        #expect(program.tiers.map(\.name) == ["base", "silver", "gold", "top"])
        #expect(program.tiers.map(\.earnMultiplierPercent) == [100, 125, 150, 200])
        #expect(program.tiers[1].threshold == 50_000)
        #expect(program.tiers[0].benefits.isEmpty)
        #expect(program.tiers[2].benefits == ["free coffee at the bakery counter", "free home delivery"])
        #expect(program.minimumRedemptionPoints == 100 && program.redemptionStepPoints == 50 && program.rounding == .down)
    }

    @Test(arguments: [
        ("valid_from: tomorrow", "line 1: valid_from"),
        ("earning: {points_per_unit: 1, rounding: sideways}", "line 2: earning.rounding: must be one of down, half_up, up"),
        ("earning: {points_per_unit: -1, rounding: down}", "line 2: earning.points_per_unit"),
        ("  - {name: base, min_rolling_spend: \"0\", earn_multiplier_percent: 100, colour: red}", "line 4: tiers[0]: unknown field 'colour'"),
        ("  - {name: base, min_rolling_spend: \"5\", earn_multiplier_percent: 100}", "line 4: tiers[0].min_rolling_spend: the first tier starts at 0"),
        ("redemption: {point_value_minor: 1, minimum_points: 1}", "redemption.step_points: is missing"),
        (
            "earning: {points_per_unit: 1, rounding: down, excluded_categories: [fresh], category_multipliers: {fresh: 200}}",
            "earning.category_multipliers.fresh: 'fresh' is also in excluded_categories"
        ),
    ])
    func everyProblemNamesTheFieldAndItsLine(_ replacement: String, _ expected: String) throws {
        var lines = Self.file(validFrom: "2026-01-01T00:00:00Z").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let field = replacement.trimmingCharacters(in: .whitespaces).prefix(while: { $0 != ":" && $0 != "{" })
        let index = lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix(String(field)) }!
        lines[index] = replacement
        let error = #expect(throws: LoyaltyError.self) { try ProgramFile.parse(lines.joined(separator: "\n")).program(version: 2) }
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "no error")")
        #expect(error?.category == .badInput)
    }

    @Test func aPromotionForAnUnknownSegmentOrTierIsRefused() throws {
        let unknownSegment = Self.example.replacingOccurrences(of: "segments: [welcome_back]", with: "segments: [sleepy]")
        let error = #expect(throws: LoyaltyError.self) { try ProgramFile.parse(unknownSegment).program(version: 2) }
        #expect(error?.message.contains("promotions[2].segments: 'sleepy' is not a segment") == true, "\(error?.message ?? "")")
        let unknownTier = Self.example.replacingOccurrences(of: "tiers: [gold, top]", with: "tiers: [gold, platinum]")
        let tierError = #expect(throws: LoyaltyError.self) { try ProgramFile.parse(unknownTier).program(version: 2) }
        #expect(tierError?.message.contains("promotions[1].tiers: 'platinum'") == true, "\(tierError?.message ?? "")")
    }

    @Test func tierBenefitsThatCannotBeShownAreRefusedWithTheirLine() throws {
        let eleven = "[" + (1...11).map { "b\($0)" }.joined(separator: ", ") + "]"
        for (benefits, expected) in [
            (eleven, "at most 10 benefits per tier"),
            ("[\"\(String(repeating: "x", count: 81))\"]", "each benefit is one line of 1 to 80 characters"),
            ("[\"two\\nlines\"]", "each benefit is one line"),
            ("free coffee", "must be a list of short texts"),
            ("[[nested]]", "each benefit must be a single line of text"),
        ] {
            let text = Self.example.replacingOccurrences(
                of: "benefits: [free coffee at the bakery counter]", with: "benefits: \(benefits)")
            let error = #expect(throws: LoyaltyError.self) { try ProgramFile.parse(text).program(version: 2) }
            #expect(error?.message.contains("tiers[1].benefits") == true, "\(benefits): \(error?.message ?? "")")
            #expect(error?.message.contains(expected) == true && error?.message.hasPrefix("line ") == true, "\(error?.message ?? "")")
        }
    }

    @Test(arguments: ["9223372036854775807", "-9223372036854775808", "99999999999999999999", "1000000000001", "12.5", "\"\""])
    func aPointsThresholdOutOfRangeIsRefusedWithItsField(_ threshold: String) throws {
        let text = """
            valid_from: 2026-01-01T00:00:00Z
            earning: {points_per_unit: 1, rounding: down}
            tiers_by: points
            tiers:
              - {name: base, min_rolling_points: 0, earn_multiplier_percent: 100}
              - {name: silver, min_rolling_points: \(threshold), earn_multiplier_percent: 100}
            redemption: {point_value_minor: 1, minimum_points: 1, step_points: 1}
            """
        let error = #expect(throws: LoyaltyError.self) { try ProgramFile.parse(text).program(version: 2) }
        #expect(
            error?.message.hasPrefix("line 6: tiers[1].min_rolling_points: must be a whole number from 0 to") == true,
            "\(threshold): \(error?.message ?? "")")
    }

    /// Tills of the release before `tiers_by` read a tier's threshold as `minimumRollingSpendMinorUnits`.
    @Test func aSpendProgramStaysReadableByTillsOfTheFormerReleaseWhichSkipAPointsProgram() throws {
        struct FormerTier: Decodable {
            var name: String
            var minimumRollingSpendMinorUnits: Int64
        }
        struct FormerProgram: Decodable { var tiers: [FormerTier] }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let pointsFile = try String(
            contentsOf: root.appendingPathComponent("sync/examples/program-points-tiers.yaml"), encoding: .utf8)
        let spend = try ProgramFile.parse(Self.example).program(version: 2)
        let points = try ProgramFile.parse(pointsFile).program(version: 3)
        let former = try JSONDecoder().decode(FormerProgram.self, from: Data(spend.document().utf8))
        #expect(former.tiers.map(\.minimumRollingSpendMinorUnits) == spend.tiers.map(\.threshold))
        #expect(throws: DecodingError.self, "a former till must not read points as spend") {
            try JSONDecoder().decode(FormerProgram.self, from: Data(points.document().utf8))
        }
        #expect(try JSONDecoder().decode(LoyaltyProgram.self, from: Data(spend.document().utf8)) == spend)
        #expect(try JSONDecoder().decode(LoyaltyProgram.self, from: Data(points.document().utf8)) == points)
    }

    @Test func tiersOutOfOrderAreRefusedWithTheirLine() throws {
        let text = Self.example.replacingOccurrences(of: "min_rolling_spend: \"1500.00\"", with: "min_rolling_spend: \"400.00\"")
        let error = #expect(throws: LoyaltyError.self) { try ProgramFile.parse(text).program(version: 2) }
        #expect(error?.message.contains("tiers[2].min_rolling_spend") == true && error?.message.hasPrefix("line ") == true, "\(error?.message ?? "")")
    }

    @Test(arguments: Driver.allCases)
    func aReviewedDowngradeReachesThePullAndALaterUpgradeWinsOverIt(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            let now = Date(timeIntervalSince1970: 1_790_000_000)
            let card = GTIN.withCheckDigit("290000044401")
            try await store.addStore(id: "A", secret: "s", now: now)
            let sale = SyncEntry(
                seq: 1, id: "sale-1", card: card, kind: "earn", points: 600, amountMinor: 60_000, currency: "EUR", receipt: "S1",
                refersToSeq: nil, ruleVersion: 1, reason: nil, createdAtMilliseconds: Int64(now.timeIntervalSince1970 * 1000) - 1000)
            _ = try await store.ingest(storeId: "A", batch: PushBatch(entries: [sale], backlog: 0), nonce: nil, now: now)
            #expect(try await store.updates(storeId: "A", since: 0, now: now).members.first?.tier == "silver")
            let calendar = try ChainCalendar(identifier: "UTC")
            let facts = try await store.memberFacts(asOfDay: calendar.today(now) + 400, calendar: calendar)
            let reviewed = TierReview.tiers(facts, program: .standard())
            #expect(reviewed.values.sorted() == ["base"])
            let cursor = try await store.updates(storeId: "A", since: 0, now: now).cursor
            #expect(try await store.publishReviewedTiers(reviewed, actor: "test", now: now) == 1)
            #expect(try await store.publishReviewedTiers(reviewed, actor: "test", now: now) == 0)
            // 400 days later the spend has left the window: the reviewed base tier is what stores see.
            let later = now.addingTimeInterval(400 * 86_400)
            let pulled = try await store.updates(storeId: "A", since: cursor, now: later)
            #expect(pulled.members.map(\.tier) == ["base"])
            // Today the live spend still reaches silver: an upgrade wins over the review at once.
            #expect(try await store.updates(storeId: "A", since: cursor, now: now).members.map(\.tier) == ["silver"])
        }
    }

    @Test func aPercentileTierGoesToTheTopSpendersAtReview() throws {
        var program = LoyaltyProgram.standard()
        program.tiers[3].topPercent = 10
        let facts = (1...20).map { index -> MemberFacts in
            var member = MemberFacts(memberId: Int64(index), card: "c\(100 + index)", firstSeenDay: 0)
            member.windowSpendMinorUnits = Int64(index) * 1_000  // 10.00 … 200.00: all base by threshold
            member.windowSales = 1
            return member
        }
        let tiers = TierReview.tiers(facts, program: program)
        #expect(tiers.filter { $0.value == "top" }.keys.sorted() == [19, 20], "the top 10 % of 20 members")
        #expect(tiers.filter { $0.value == "base" }.count == 18)
    }

    /// Defect (issue 23): in a small chain "the top 10 %" was one member picked by chance (⌈10·3/100⌉ = 1
    /// of 3). Below ``TierReview/minimumRankedMembersForPercentileTiers`` members with a figure, a
    /// percentile tier goes by its threshold only, and the review says so.
    @Test func aPercentileTierNeedsEnoughMembersToRank() throws {
        var program = LoyaltyProgram.standard()
        program.tiers[3].topPercent = 10
        func facts(_ count: Int) -> [MemberFacts] {
            (1...count).map { index in
                var member = MemberFacts(memberId: Int64(index), card: "c\(100 + index)", firstSeenDay: 0)
                member.windowSpendMinorUnits = Int64(index) * 1_000
                member.windowSales = 1
                return member
            }
        }
        let few = facts(TierReview.minimumRankedMembersForPercentileTiers - 1)
        #expect(TierReview.tiers(few, program: program).values.allSatisfy { $0 == "base" })
        #expect(!TierReview.grantsPercentileTiers(few, program: program))
        let enough = facts(TierReview.minimumRankedMembersForPercentileTiers)
        #expect(TierReview.tiers(enough, program: program).values.contains("top"))
    }

    @Test(arguments: Driver.allCases)
    func publishedVersionsAreNumberedAndPullsCarryTheOneInForceAndLaterOnes(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            let now = Date(timeIntervalSince1970: 1_790_000_000)  // 2026-09-21
            try await store.addStore(id: "A", secret: "s", now: now)
            #expect(try await store.updates(storeId: "A", since: 0, now: now).programs == nil, "nothing published yet")
            for (validFrom, points) in [("2026-01-01T00:00:00Z", 2), ("2026-06-01T00:00:00Z", 3), ("2027-01-01T00:00:00Z", 4)] {
                _ = try await store.publishProgram(
                    try ProgramFile.parse(Self.file(validFrom: validFrom, pointsPerUnit: points)), actor: "test", now: now)
            }
            let published = try await store.programs()
            #expect(published.map(\.program.version) == [2, 3, 4])
            #expect(published.map(\.program.pointsPerMajorUnit) == [2, 3, 4])
            let releases = try #require(try await store.updates(storeId: "A", since: 0, now: now).programs)
            #expect(releases.map(\.version) == [3, 4], "version 2 is superseded; 3 is in force; 4 comes later")
            let document = try JSONDecoder().decode(LoyaltyProgram.self, from: Data(releases[1].document.utf8))
            #expect(document.version == 4 && document.validFromMilliseconds == releases[1].validFromMilliseconds)
        }
    }
}
