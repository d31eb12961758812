import LoyaltyCore
import TestSupport
import Testing

/// The earning rules by hand-computed examples, and the properties every breakdown has.
@Suite struct EarningTests {
    static func program(_ configure: (inout EarningRules) -> Void) -> LoyaltyProgram {
        var program = LoyaltyProgram.standard()
        program.tiers[2].earnMultiplierPercent = 150  // gold
        var rules = EarningRules()
        rules.excludedCategories = ["tobacco"]
        rules.categoryMultiplierPercent = ["fresh": 200]
        var weekend = Promotion(name: "double weekend", multiplierPercent: 200)
        weekend.weekdays = [6, 7]
        var happyHour = Promotion(name: "happy hour", multiplierPercent: 150)
        (happyHour.fromHour, happyHour.untilHour) = (17, 19)
        rules.promotions = [weekend, happyHour]
        rules.birthdayMonthMultiplierPercent = 200
        configure(&rules)
        program.earningRules = rules
        return program
    }

    static let lines = [
        SaleLine(sku: "apples", category: "fresh", amountMinor: 1_000), SaleLine(sku: "cigarettes", category: "tobacco", amountMinor: 2_000),
        SaleLine(sku: "soap", category: "household", amountMinor: 555),
    ]
    static let saturdayEvening = SaleMoment(day: "2026-05-09", weekday: 6, hour: 18, month: 5)

    @Test func aPromotedBirthdaySaleByAGoldMemberAddsUpStepByStep() throws {
        let program = Self.program { _ in }
        let breakdown = try program.earning(
            lines: Self.lines, tier: program.tiers[2], moment: Self.saturdayEvening, birthdayMonth: 5, earnedToday: 0)
        // Eligible 10.00 fresh ×2 + 5.55 = 25.55 weighted units → 25 (down); gold +12 → 37;
        // weekend ×2 +37 → 74; happy hour ×1.5 +37 → 111; birthday month ×2 +111 → 222.
        #expect(breakdown.eligibleMinor == 1_555)
        #expect(breakdown.base == 25 && breakdown.tier == 12)
        #expect(breakdown.promotions.map(\.points) == [37, 37] && breakdown.birthday == 111)
        #expect(breakdown.capped == 0 && breakdown.points == 222)
    }

    @Test func bestOfCombinesOnlyTheLargestAndCapsApplyLast() throws {
        let best = Self.program { $0.combination = .best; $0.birthdayMonthMultiplierPercent = 300 }
        let one = try best.earning(lines: Self.lines, tier: best.tiers[2], moment: Self.saturdayEvening, birthdayMonth: 5, earnedToday: 0)
        #expect(one.promotions.isEmpty && one.birthday == 74 && one.points == 111, "37 ×3 = 111: only the birthday month")

        let capped = Self.program { $0.perSaleCapPoints = 100 }
        let perSale = try capped.earning(lines: Self.lines, tier: capped.tiers[2], moment: Self.saturdayEvening, birthdayMonth: 5, earnedToday: 0)
        #expect(perSale.points == 100 && perSale.capped == 122)

        let daily = Self.program { $0.perMemberDayCapPoints = 150 }
        let perDay = try daily.earning(lines: Self.lines, tier: daily.tiers[2], moment: Self.saturdayEvening, birthdayMonth: 5, earnedToday: 100)
        #expect(perDay.points == 50 && perDay.capped == 172, "150 a day, 100 already earned")
        let spent = try daily.earning(lines: Self.lines, tier: daily.tiers[2], moment: Self.saturdayEvening, birthdayMonth: 5, earnedToday: 400)
        #expect(spent.points == 0)
    }

    @Test func windowsWeekdaysHoursAndTiersDecideWhichPromotionsApply() throws {
        let program = Self.program { rules in
            rules.promotions[0].tiers = ["gold"]
            rules.promotions[0].fromDay = "2026-05-01"
            rules.promotions[0].untilDay = "2026-05-31"
        }
        let monday = SaleMoment(day: "2026-05-11", weekday: 1, hour: 18, month: 5)
        #expect(try program.earning(lines: Self.lines, tier: program.tiers[2], moment: monday, birthdayMonth: nil, earnedToday: 0)
            .promotions.map(\.name) == ["happy hour"])
        let morning = SaleMoment(day: "2026-05-09", weekday: 6, hour: 9, month: 5)
        #expect(try program.earning(lines: Self.lines, tier: program.tiers[0], moment: morning, birthdayMonth: nil, earnedToday: 0)
            .promotions.isEmpty, "the weekend promotion is gold-only; happy hour starts at 17")
        let june = SaleMoment(day: "2026-06-06", weekday: 6, hour: 18, month: 6)
        #expect(try program.earning(lines: Self.lines, tier: program.tiers[2], moment: june, birthdayMonth: nil, earnedToday: 0)
            .promotions.map(\.name) == ["happy hour"], "after the date range")
    }

    @Test func aSegmentPromotionAppliesOnlyToMembersWithOneOfItsFlags() throws {
        let program = Self.program { rules in
            rules.promotions = [Promotion(name: "welcome back", multiplierPercent: 300)]
            rules.promotions[0].segments = ["welcome_back", "at_risk"]
        }
        let moment = SaleMoment(day: "2026-05-11", weekday: 1, hour: 10, month: 5)
        func promotions(_ flags: [String]) throws -> [String] {
            try program.earning(lines: Self.lines, tier: program.tiers[0], moment: moment, birthdayMonth: nil, earnedToday: 0, flags: flags)
                .promotions.map(\.name)
        }
        #expect(try promotions(["welcome_back"]) == ["welcome back"] && promotions(["super_user", "at_risk"]) == ["welcome back"])
        #expect(try promotions([]).isEmpty && promotions(["super_user"]).isEmpty)
    }

    @Test func everyBreakdownAddsUpNeverGoesNegativeAndRespectsItsCaps() throws {
        var random = SeededRandom(seed: TestSeed.make("earningBreakdowns"))
        for _ in 0..<2_000 {
            let program = Self.program { rules in
                rules.combination = Bool.random(using: &random) ? .multiply : .best
                rules.perSaleCapPoints = Bool.random(using: &random) ? Int64.random(in: 1...500, using: &random) : nil
                rules.perMemberDayCapPoints = Bool.random(using: &random) ? Int64.random(in: 1...800, using: &random) : nil
            }
            let lines = (0..<Int.random(in: 1...6, using: &random)).map { _ in
                SaleLine(
                    sku: "x", category: ["fresh", "tobacco", "household"].randomElement(using: &random)!,
                    amountMinor: Int64.random(in: 1...5_000_000, using: &random))
            }
            let moment = SaleMoment(
                day: "2026-05-0\(Int.random(in: 1...9, using: &random))", weekday: Int.random(in: 1...7, using: &random),
                hour: Int.random(in: 0...23, using: &random), month: Int.random(in: 1...12, using: &random))
            let earnedToday = Int64.random(in: 0...1_000, using: &random)
            let tier = program.tiers.randomElement(using: &random)!
            let breakdown = try program.earning(
                lines: lines, tier: tier, moment: moment, birthdayMonth: Int.random(in: 1...12, using: &random), earnedToday: earnedToday)
            let sum = breakdown.base + breakdown.tier + breakdown.promotions.reduce(0) { $0 + $1.points } + breakdown.birthday
            #expect(sum - breakdown.capped == breakdown.points)
            #expect(breakdown.points >= 0 && breakdown.capped >= 0)
            if let cap = program.earningRules?.perSaleCapPoints { #expect(breakdown.points <= cap) }
            if let cap = program.earningRules?.perMemberDayCapPoints { #expect(breakdown.points <= max(0, cap - earnedToday)) }
            // Excluded lines never earn: the same sale without them earns the same.
            let kept = lines.filter { $0.category != "tobacco" }
            if !kept.isEmpty {
                #expect(try program.earning(lines: kept, tier: tier, moment: moment, birthdayMonth: nil, earnedToday: earnedToday).base == breakdown.base)
            }
        }
    }

    /// Defect: a legal program (1000 points per unit, ×1000 % category, tier and promotions) and a
    /// 10,000,000,000.00 sale trapped on Int64 overflow and killed the till daemon. Any program and any
    /// legal amount now earns at most the per-entry limit head office accepts, or is refused.
    @Test func noProgramAndNoLegalSaleOverflows() {
        var random = SeededRandom(seed: TestSeed.make("earningOverflow"))
        var refused = 0
        for _ in 0..<3_000 {
            var program = Self.program { rules in
                rules.combination = Bool.random(using: &random) ? .multiply : .best
                rules.categoryMultiplierPercent = ["fresh": Int64.random(in: 100...100_000, using: &random)]
                rules.promotions = (0..<Int.random(in: 0...8, using: &random)).map { index in
                    Promotion(name: "p\(index)", multiplierPercent: Int64.random(in: 100...100_000, using: &random))
                }
                rules.birthdayMonthMultiplierPercent = Int64.random(in: 100...100_000, using: &random)
            }
            program.pointsPerMajorUnit = Int64.random(in: 0...1_000_000, using: &random)
            program.tiers[2].earnMultiplierPercent = Int64.random(in: 100...100_000, using: &random)
            program.rounding = Rounding.allCases.randomElement(using: &random)!
            let lines = (0..<Int.random(in: 1...6, using: &random)).map { _ in
                SaleLine(
                    sku: "x", category: ["fresh", "household"].randomElement(using: &random)!,
                    amountMinor: Bool.random(using: &random)
                        ? Money.maximumMinorUnits : Int64.random(in: 1...Money.maximumMinorUnits, using: &random))
            }
            do {
                let breakdown = try program.earning(
                    lines: lines, tier: program.tiers[2], moment: Self.saturdayEvening, birthdayMonth: 5, earnedToday: 0)
                #expect((0...EarningBreakdown.maximumPointsPerEntry).contains(breakdown.points))
                let sum = breakdown.base + breakdown.tier + breakdown.promotions.reduce(0) { $0 + $1.points } + breakdown.birthday
                #expect(sum - breakdown.capped == breakdown.points)
            } catch {
                #expect(error.code == "points_limit", "\(error.message)")
                refused += 1
            }
            let amount = Money(minorUnits: lines[0].amountMinor, currency: program.currency)
            do {
                #expect(try program.pointsEarned(for: amount, tier: program.tiers[2]) <= EarningBreakdown.maximumPointsPerEntry)
            } catch {
                #expect(error.code == "points_limit")
            }
        }
        #expect(refused > 100, "the extremes were reached: \(refused) refused")
    }
}
