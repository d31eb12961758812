import Foundation
import LoyaltyCore
import TestSupport
import Testing

/// Head office publishes program versions; tills switch at valid_from after a sync, a till offline
/// keeps earning on the version it has, and a refund keeps the version of its sale.
@Suite(.serialized) struct ProgramSwitchTests {
    let folder = TemporaryFolder()

    func program(validFrom: String, pointsPerUnit: Int, silverMultiplier: Int = 100, maxSharePercent: Int? = nil) -> String {
        let path = folder.file("program-\(pointsPerUnit)-\(maxSharePercent ?? 0).yaml")
        let text = """
            valid_from: \(validFrom)
            currency: EUR
            earning:
              points_per_unit: \(pointsPerUnit)
              rounding: down
            tiers:
              - name: base
                min_rolling_spend: "0"
                earn_multiplier_percent: 100
              - name: silver
                min_rolling_spend: "500.00"
                earn_multiplier_percent: \(silverMultiplier)
            redemption:
              point_value_minor: 1
              minimum_points: 1
              step_points: 1
            """ + (maxSharePercent.map { "\n  max_share_percent: \($0)" } ?? "")
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    @Test func tillsSwitchAtValidFromAfterASyncAndAnOfflineTillKeepsItsVersion() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-program", stores: ["A", "B"])
        try chain.start()
        defer { chain.stop() }
        let card = GTIN.withCheckDigit("290000088801")
        #expect(try chain.till("A", ["enroll", card]).exitCode == 0)
        let before = try chain.till("A", ["award", card, "--amount", "10.00", "--receipt", "P-1"])
        #expect(before.json["rule_version"] as? Int == 1 && before.json["points"] as? Int == 10, "\(before.stdout)")

        // Version 2 is in force already (valid from the past); version 3 only from 2099.
        let published = try chain.hq(["program", "publish", program(validFrom: "2026-01-01T00:00:00Z", pointsPerUnit: 3), "--json"])
        #expect(published.exitCode == 0, "\(published.stderr)")
        #expect((published.json["program"] as? [String: Any])?["version"] as? Int == 2)
        #expect(try chain.hq(["program", "publish", program(validFrom: "2099-01-01T00:00:00Z", pointsPerUnit: 7)]).exitCode == 0)
        let history = try chain.hq(["program", "history", "--json"])
        #expect((history.json["versions"] as? [[String: Any]])?.map { $0["version"] as? Int } == [1, 2, 3])

        // Store B has not synced: it keeps earning on version 1.
        #expect(try chain.till("B", ["enroll", GTIN.withCheckDigit("290000088802")]).exitCode == 0)
        let offline = try chain.till("B", ["award", GTIN.withCheckDigit("290000088802"), "--amount", "10.00", "--receipt", "B-1"])
        #expect(offline.json["rule_version"] as? Int == 1 && offline.json["points"] as? Int == 10)

        // Back online, B's sale from before the sync keeps the version it was made under; its next sale
        // uses the version in force.
        #expect(try chain.sync("B").exitCode == 0)
        let online = try chain.till("B", ["award", GTIN.withCheckDigit("290000088802"), "--amount", "10.00", "--receipt", "B-2"])
        #expect(online.json["rule_version"] as? Int == 2 && online.json["points"] as? Int == 30, "\(online.stdout)")
        let offlineEntry = (try chain.till("B", ["member", GTIN.withCheckDigit("290000088802")]).json["recent_entries"] as? [[String: Any]])?
            .first { $0["receipt"] as? String == "B-1" }
        #expect(offlineEntry?["rule_version"] as? Int == 1)

        let synced = try chain.sync("A")
        #expect(synced.exitCode == 0, "\(synced.stdout) \(synced.stderr)")
        let after = try chain.till("A", ["award", card, "--amount", "10.00", "--receipt", "P-2"])
        #expect(after.json["rule_version"] as? Int == 2 && after.json["points"] as? Int == 30, "\(after.stdout)")
        #expect(try chain.till("A", ["status"]).json["program_version"] as? Int == 2)

        // The refund of the sale made under version 1 takes back its 10 points, as version 1 gave them.
        let refund = try chain.till("A", ["refund", "--receipt", "P-1"])
        #expect(refund.exitCode == 0 && refund.json["reversed_points"] as? Int == -10, "\(refund.stdout)")
        let member = try chain.till("A", ["member", card])
        let reversal = (member.json["recent_entries"] as? [[String: Any]])?.first { $0["kind"] as? String == "reverse" }
        #expect(reversal?["rule_version"] as? Int == 1, "\(member.stdout)")
        #expect(try chain.till("A", ["verify"]).exitCode == 0)

        // A bad file is refused with the field and its line, and publishes nothing.
        let bad = folder.file("bad.yaml")
        FileManager.default.createFile(
            atPath: bad, contents: Data(try String(contentsOfFile: program(validFrom: "2026-01-01T00:00:00Z", pointsPerUnit: 2), encoding: .utf8)
                .replacingOccurrences(of: "rounding: down", with: "rounding: nearest").utf8))
        let refused = try chain.hq(["program", "publish", bad])
        #expect(refused.exitCode == 2 && refused.stderr.contains("line 5: earning.rounding"), "\(refused.stderr)")
        #expect((try chain.hq(["program", "history", "--json"]).json["versions"] as? [Any])?.count == 3)
    }

    @Test func saleLinesEarnByTheExampleProgramWithABreakdownForTheReceipt() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-lines", stores: ["L"])
        try chain.start()
        defer { chain.stop() }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        #expect(try chain.hq(["program", "publish", root.appendingPathComponent("sync/examples/program.yaml").path]).exitCode == 0)
        let synced = try chain.sync("L")
        #expect(synced.exitCode == 0, "\(synced.stdout) \(synced.stderr)")
        let card = GTIN.withCheckDigit("290000088804")
        #expect(try chain.till("L", ["enroll", card]).exitCode == 0)
        let award = try chain.till("L", [
            "award", card, "--receipt", "L-1", "--line", "4006381333931:fresh:10.00", "--line", "cig:tobacco:20.00",
            "--line", "soap:household:5.55",
        ])
        #expect(award.exitCode == 0, "\(award.stderr)")
        #expect(award.json["amount"] as? String == "35.55", "the sale is all its lines")
        let breakdown = try #require(award.json["breakdown"] as? [String: Any], "\(award.stdout)")
        // 10.00 fresh ×2 + 5.55 (tobacco excluded) = 25.55 units → 25 points at base tier; any weekend
        // or birthday multiplier of the day adds on top, so check the parts add up to the total.
        #expect(breakdown["eligible_minor"] as? Int == 1_555 && breakdown["base"] as? Int == 25)
        let promotions = (breakdown["promotions"] as? [[String: Any]] ?? []).reduce(0) { $0 + ($1["points"] as? Int ?? 0) }
        let total = (breakdown["base"] as? Int ?? 0) + (breakdown["tier"] as? Int ?? 0) + promotions + (breakdown["birthday"] as? Int ?? 0)
            - (breakdown["capped"] as? Int ?? 0)
        #expect(award.json["points"] as? Int == total && total >= 25)
        let mismatch = try chain.till("L", ["award", card, "--receipt", "L-2", "--amount", "9.00", "--line", "x:fresh:10.00"])
        #expect(mismatch.exitCode == 2 && mismatch.json["error"] as? String == "lines_mismatch")
        let malformed = try chain.till("L", ["award", card, "--receipt", "L-3", "--line", "just-a-sku"])
        #expect(malformed.exitCode == 2 && malformed.json["error"] as? String == "bad_line")
        let text = try AgentProcess.run(["award", card, "--receipt", "L-4", "--line", "bread:bakery:2.00", "--db", folder.file("L.db")])
        #expect(text.stdout.contains("points: base 2"), "\(text.stdout)")
    }

    @Test func theDailyCapCountsTheMembersEarlierSalesThatDay() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-daycap", stores: ["D"])
        try chain.start()
        defer { chain.stop() }
        let path = program(validFrom: "2026-01-01T00:00:00Z", pointsPerUnit: 1)
        let text = try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(of: "  rounding: down", with: "  rounding: down\n  per_member_day_cap_points: 15\n  per_sale_cap_points: 12")
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        #expect(try chain.hq(["program", "publish", path]).exitCode == 0)
        #expect(try chain.sync("D").exitCode == 0)
        let card = GTIN.withCheckDigit("290000088805")
        #expect(try chain.till("D", ["enroll", card]).exitCode == 0)
        let points = try (1...3).map { index in
            try chain.till("D", ["award", card, "--amount", "20.00", "--receipt", "D-\(index)"]).json["points"] as? Int
        }
        // 20 points each: the per-sale cap gives 12; the day's cap of 15 leaves 3, then nothing.
        #expect(points == [12, 3, 0])
        let retry = try chain.till("D", ["award", card, "--amount", "20.00", "--receipt", "D-2"])
        #expect(retry.json["replayed"] as? Bool == true && retry.json["points"] as? Int == 3, "a retry prints the original")
    }

    @Test func pointsPayAtMostTheProgramsShareOfASale() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-share", stores: ["S"])
        try chain.start()
        defer { chain.stop() }
        let card = GTIN.withCheckDigit("290000088803")
        #expect(try chain.till("S", ["enroll", card]).exitCode == 0)
        #expect(try chain.till("S", ["award", card, "--amount", "20.00", "--receipt", "S-1"]).json["points"] as? Int == 20)
        // Without a limit, a redemption needs no sale amount.
        #expect(try chain.till("S", ["redeem", card, "--points", "5", "--receipt", "S-2"]).exitCode == 0)
        let share = program(validFrom: "2026-01-01T00:00:00Z", pointsPerUnit: 100, maxSharePercent: 50)
        #expect(try chain.hq(["program", "publish", share]).exitCode == 0)
        #expect(try chain.sync("S").exitCode == 0)
        let award = try chain.till("S", ["award", card, "--amount", "10.00", "--receipt", "S-3"])
        #expect(award.json["points"] as? Int == 1_000 && award.json["rule_version"] as? Int == 2)
        // 50 % of a 10.00 sale is 5.00: 500 points at one cent each.
        let noSale = try chain.till("S", ["redeem", card, "--points", "500", "--receipt", "S-4"])
        #expect(noSale.exitCode == 2 && noSale.json["error"] as? String == "sale_amount_needed", "\(noSale.stdout)")
        let over = try chain.till("S", ["redeem", card, "--points", "501", "--receipt", "S-4", "--sale-amount", "10.00"])
        #expect(over.exitCode == 1 && over.json["error"] as? String == "over_sale_share", "\(over.stdout)")
        #expect(over.stderr.contains("at most 500 points"))
        let within = try chain.till("S", ["redeem", card, "--points", "500", "--receipt", "S-4", "--sale-amount", "10.00"])
        #expect(within.exitCode == 0 && within.json["discount"] as? String == "5.00", "\(within.stdout)")
        #expect(try chain.till("S", ["verify"]).exitCode == 0)
    }
}
