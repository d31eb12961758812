import Foundation
import LoyaltyCore
import TestSupport
import Testing

/// Tiers by rolling 12-month points earned (`tiers_by: points`, sync/examples/program-points-tiers.yaml),
/// through the real binaries, with every figure worked out by hand: category multipliers and bonuses
/// count, redemptions do not, a refund takes its points back, an upgrade is at once at the till, and
/// the downgrade waits for head office's review.
@Suite(.serialized) struct TierByPointsTests {
    let folder = TemporaryFolder()

    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("sync/examples/program-points-tiers.yaml").path

    @Test func membersMoveUpByPointsEarnedAtTheTillAndDownAtReview() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-points-tiers", stores: ["P"])
        try chain.start()
        defer { chain.stop() }
        #expect(try chain.hq(["program", "publish", Self.example]).exitCode == 0)
        let shown = try chain.hq(["program", "show"])
        #expect(
            shown.stdout.contains("silver: from 500 points earned in 12 months, earns ×125 %; free coffee at the bakery counter"),
            "\(shown.stdout)")
        #expect(try chain.sync("P").exitCode == 0)
        let ada = GTIN.withCheckDigit("290000077701")
        let bob = GTIN.withCheckDigit("290000077702")
        func int(_ value: Any?) -> Int? { value as? Int }
        func member(_ card: String) throws -> [String: Any] { try chain.till("P", ["member", card]).json }

        #expect(try chain.till("P", ["enroll", ada]).exitCode == 0)
        // 100.00 of fresh food earns double (200) and 200.00 of groceries 200; the first purchase adds 50.
        let first = try chain.till(
            "P", ["award", ada, "--line", "F1:fresh:100.00", "--line", "G1:grocery:200.00", "--receipt", "P-1"])
        #expect(int(first.json["points"]) == 400 && int(first.json["first_purchase_bonus"]) == 50, "\(first.stdout)")
        #expect(int(first.json["balance"]) == 450 && first.json["tier"] as? String == "base")
        var view = try member(ada)
        #expect(view["tiers_by"] as? String == "points" && int(view["rolling_points_earned"]) == 450, "\(view)")
        #expect(view["next_tier"] as? String == "silver" && int(view["points_to_next_tier"]) == 50)
        #expect(view["spend_to_next_tier"] == nil && view["rolling_spend"] as? String == "300.00")
        let text = try AgentProcess.run(["member", ada, "--db", folder.file("P.db")])
        #expect(text.stdout.contains("base (12-month points earned 450) — 50 more points to silver"), "\(text.stdout)")

        // Spending points lowers the balance, not what the member earned.
        #expect(
            int(try chain.till("P", ["redeem", ada, "--points", "200", "--receipt", "P-2"]).json["balance"]) == 250)
        view = try member(ada)
        #expect(int(view["rolling_points_earned"]) == 450 && int(view["points_to_next_tier"]) == 50)

        // 60 points reach 510: silver with this sale, at once.
        let upgrade = try chain.till("P", ["award", ada, "--amount", "60.00", "--receipt", "P-3"])
        #expect(int(upgrade.json["points"]) == 60 && upgrade.json["tier"] as? String == "silver", "\(upgrade.stdout)")
        // Silver's benefits come with it, for the cashier to mention.
        #expect(try member(ada)["tier_benefits"] as? [String] == ["free coffee at the bakery counter"])
        let silverText = try AgentProcess.run(["member", ada, "--db", folder.file("P.db")])
        #expect(silverText.stdout.contains("benefits      free coffee at the bakery counter"), "\(silverText.stdout)")
        // The next sale earns at silver: 100 × 125 % = 125; 635 earned, 865 short of gold.
        let atSilver = try chain.till("P", ["award", ada, "--amount", "100.00", "--receipt", "P-4"])
        #expect(int(atSilver.json["points"]) == 125 && int(atSilver.json["balance"]) == 435, "\(atSilver.stdout)")
        view = try member(ada)
        #expect(int(view["rolling_points_earned"]) == 635 && view["next_tier"] as? String == "gold")
        #expect(int(view["points_to_next_tier"]) == 865)
        // The 60.00 sale returned: its 60 points go, 575 remain (still above silver's 500).
        let refund = try chain.till("P", ["refund", "--receipt", "P-3", "--return-receipt", "R-1"])
        #expect(int(refund.json["reversed_points"]) == -60 && int(refund.json["balance"]) == 375, "\(refund.stdout)")
        #expect(int(try member(ada)["rolling_points_earned"]) == 575)

        // Bob spends more than Ada (440.00 against her net 400.00) but earns fewer points: 440 + 50.
        #expect(try chain.till("P", ["enroll", bob]).exitCode == 0)
        let bobSale = try chain.till("P", ["award", bob, "--amount", "440.00", "--receipt", "P-5"])
        #expect(bobSale.json["tier"] as? String == "base" && int(bobSale.json["balance"]) == 490, "\(bobSale.stdout)")
        #expect(int(try member(bob)["points_to_next_tier"]) == 10)

        #expect(try chain.sync("P").exitCode == 0)
        let atHeadOffice = try chain.hq(["member", ada, "--json"]).json
        #expect(
            atHeadOffice["tier"] as? String == "silver" && int(atHeadOffice["rolling_points_earned"]) == 575,
            "\(atHeadOffice)")
        let review = try chain.hq(["tiers", "review", "--json"])
        #expect(
            review.json["tiers"] as? [String: Int] == ["silver": 1, "base": 1], "\(review.stdout) \(review.stderr)")
        let report = try chain.hq(["report", "tiers", "--json"])
        let reported = (report.json["members"] as? [[String: Any]]) ?? []
        #expect(
            reported.first { $0["card"] as? String == ada }.map { int($0["rolling_points_earned"]) } == 575,
            "\(report.stdout)")

        // The 100.00 sale returned too: 450 earned, below silver. The till keeps silver, and so does head
        // office (its last review said silver), until the next review moves Ada down.
        #expect(
            int(try chain.till("P", ["refund", "--receipt", "P-4", "--return-receipt", "R-2"]).json["reversed_points"])
                == -125)
        #expect(try chain.sync("P").exitCode == 0)
        #expect(try member(ada)["tier"] as? String == "silver")
        let downgrade = try chain.hq(["tiers", "review", "--json"])
        #expect(
            int(downgrade.json["changed"]) == 1 && downgrade.json["tiers"] as? [String: Int] == ["base": 2],
            "\(downgrade.stdout)")
        #expect(try chain.sync("P").exitCode == 0)
        view = try member(ada)
        #expect(
            view["tier"] as? String == "base" && int(view["points_to_next_tier"]) == 50 && int(view["balance"]) == 250,
            "\(view)")
        #expect(try chain.till("P", ["verify"]).exitCode == 0)
    }

    @Test func aThresholdThatDoesNotMatchTiersByIsRefusedAtPublishWithItsLine() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-points-bad", stores: [])
        let example = try String(contentsOfFile: Self.example, encoding: .utf8)
        for (replace, with, expected) in [
            (
                "min_rolling_points: 500", "min_rolling_spend: \"500.00\"",
                "tiers[1].min_rolling_spend: this program's tiers count points earned"
            ),
            ("tiers_by: points", "tiers_by: visits", "tiers_by: must be one of spend, points"),
            (
                "min_rolling_points: 1500", "min_rolling_points: 400",
                "tiers[2].min_rolling_points: tiers must be ordered by rising"
            ),
            (
                "min_rolling_points: 500", "min_rolling_points: -5",
                "tiers[1].min_rolling_points: must be a whole number"
            ),
            ("tiers_by: points\n", "", "tiers[0].min_rolling_points: this program's tiers count spend"),
        ] {
            let path = folder.file("bad-\(expected.prefix(12)).yaml")
            FileManager.default.createFile(
                atPath: path, contents: Data(example.replacingOccurrences(of: replace, with: with).utf8))
            let refused = try chain.hq(["program", "publish", path])
            #expect(refused.exitCode == 2 && refused.stderr.contains(expected), "\(with): \(refused.stderr)")
            #expect(refused.stderr.contains("line "), "the line is named: \(refused.stderr)")
        }
        #expect(
            (try chain.hq(["program", "history", "--json"]).json["versions"] as? [Any])?.count == 1,
            "nothing was published")
    }
}
