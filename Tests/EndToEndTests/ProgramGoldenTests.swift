import Foundation
import LoyaltyCore
import TestSupport
import Testing

/// One member's scripted history through the real binaries, with the points worked out by hand at
/// every step: a double-points day, the birthday month, bonuses, a tier upgrade in the middle of a
/// series of sales, a partial refund of a promoted sale, a full refund taking its first-purchase bonus
/// back, a referral bonus from head office, a welcome coupon used once, a redemption, and the points
/// about to expire.
@Suite(.serialized) struct ProgramGoldenTests {
    let folder = TemporaryFolder()

    /// Today's ISO weekday and month (UTC): the promotion and the birthday fall on the day the test runs.
    static func today() -> (weekday: String, month: Int) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.weekday, .month], from: Date())
        let names = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
        return (names[parts.weekday! - 1], parts.month!)
    }

    func programFile() -> String {
        let path = folder.file("golden.yaml")
        let text = """
            valid_from: 2026-01-01T00:00:00Z
            currency: EUR
            earning:
              points_per_unit: 1
              rounding: down
              combine: multiply
              birthday_month_multiplier_percent: 150
              per_sale_cap_points: 10000
              time_zone: UTC
            tiers:
              - {name: base, min_rolling_spend: "0", earn_multiplier_percent: 100}
              - {name: silver, min_rolling_spend: "100.00", earn_multiplier_percent: 150}
            promotions:
              - {name: double points day, multiplier_percent: 200, weekdays: [\(Self.today().weekday)]}
            redemption: {point_value_minor: 1, minimum_points: 10, step_points: 10}
            bonuses: {enrolment_points: 50, first_purchase_points: 100, referral_points: 25}
            expiry: {after_days: 365}
            coupons:
              - {name: welcome, when: enrolment, discount: "5.00", valid_days: 30}
            """
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    @Test func aScriptedMemberHistoryEarnsExactlyTheHandComputedPoints() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-golden", stores: ["G"])
        try chain.start()
        defer { chain.stop() }
        #expect(try chain.hq(["program", "publish", programFile()]).exitCode == 0)
        #expect(try chain.sync("G").exitCode == 0)
        let referrer = GTIN.withCheckDigit("290000066601")
        let member = GTIN.withCheckDigit("290000066602")
        let month = Self.today().month
        let birthday = "1990-\(month < 10 ? "0" : "")\(month)-15"

        func int(_ value: Any?) -> Int? { value as? Int }
        let enrolR = try chain.till("G", ["enroll", referrer])
        #expect(int(enrolR.json["balance"]) == 50, "enrolment bonus: \(enrolR.stdout)")
        let enrolM = try chain.till("G", ["enroll", member, "--referred-by", referrer, "--birthday", birthday])
        #expect(int(enrolM.json["balance"]) == 50 && int(enrolM.json["enrolment_bonus"]) == 50)
        let welcome = try #require((enrolM.json["coupons_issued"] as? [String])?.first, "\(enrolM.stdout)")
        #expect(welcome.hasPrefix("WELCOME-") && !welcome.contains(member), "a code says nothing of the card: \(welcome)")

        // 40.00 at base: 40, double day +40 = 80, birthday month +40 = 120; first purchase +100.
        let first = try chain.till("G", ["award", member, "--amount", "40.00", "--receipt", "G-1"])
        #expect(int(first.json["points"]) == 120 && int(first.json["first_purchase_bonus"]) == 100, "\(first.stdout)")
        #expect(int(first.json["balance"]) == 270 && first.json["tier"] as? String == "base")
        let breakdown = try #require(first.json["breakdown"] as? [String: Any])
        #expect(int(breakdown["base"]) == 40 && int(breakdown["birthday"]) == 40)
        #expect((breakdown["promotions"] as? [[String: Any]])?.map { int($0["points"]) } == [40])

        // 80.00, still base (40.00 before it): 80 → 160 → 240. The 12-month spend reaches 120.00: silver at once.
        let second = try chain.till("G", ["award", member, "--amount", "80.00", "--receipt", "G-2"])
        #expect(int(second.json["points"]) == 240 && int(second.json["balance"]) == 510 && second.json["tier"] as? String == "silver")
        #expect(second.json["first_purchase_bonus"] == nil)

        // 20.00 at silver: 20, tier +10 = 30, double +30 = 60, birthday +30 = 90.
        let third = try chain.till("G", ["award", member, "--amount", "20.00", "--receipt", "G-3"])
        #expect(int(third.json["points"]) == 90 && int(third.json["balance"]) == 600, "\(third.stdout)")

        // 10.00 of the promoted 80.00 sale back: floor(240 × 10 / 80) = 30 points.
        let partial = try chain.till("G", ["refund", "--receipt", "G-2", "--amount", "10.00", "--return-receipt", "RET-1"])
        #expect(int(partial.json["reversed_points"]) == -30 && int(partial.json["balance"]) == 570, "\(partial.stdout)")
        // All of the first sale back: its 120 points and the first-purchase bonus.
        let full = try chain.till("G", ["refund", "--receipt", "G-1", "--return-receipt", "RET-2"])
        #expect(int(full.json["reversed_points"]) == -120 && int(full.json["reversed_bonus_points"]) == -100)
        #expect(int(full.json["balance"]) == 350)

        // The sales reached head office: both members get the 25-point referral bonus (G-2 stands). With the
        // first sale fully refunded, G-2 is the member's first purchase: head office pays its bonus, which the
        // till (having seen G-1) did not — visibly, reconcile:first_purchase_missing.
        #expect(try chain.sync("G").exitCode == 0)
        let view = try chain.till("G", ["member", member])
        #expect(int(view.json["balance"]) == 475, "\(view.stdout)")
        let fromHeadOffice = (view.json["head_office_entries"] as? [[String: Any]]) ?? []
        #expect(fromHeadOffice.map { int($0["points"]) }.sorted { ($0 ?? 0) < ($1 ?? 0) } == [25, 100], "\(view.stdout)")
        #expect(fromHeadOffice.contains { ($0["reason"] as? String)?.hasPrefix("reconcile:first_purchase_missing") == true })
        #expect(int(try chain.till("G", ["member", referrer]).json["balance"]) == 75)

        // The welcome coupon pays 5.00 off one sale, once.
        let coupon = try chain.till("G", ["coupon", "use", welcome, "--card", member, "--receipt", "G-4"])
        #expect(coupon.exitCode == 0 && coupon.json["discount"] as? String == "5.00", "\(coupon.stdout) \(coupon.stderr)")
        let again = try chain.till("G", ["coupon", "use", welcome, "--card", member, "--receipt", "G-6"])
        #expect(again.exitCode == 1 && again.json["error"] as? String == "coupon_used")
        #expect(int(try chain.till("G", ["member", member]).json["balance"]) == 475, "a coupon is no points")

        let redeemed = try chain.till("G", ["redeem", member, "--points", "100", "--receipt", "G-5"])
        #expect(int(redeemed.json["balance"]) == 375)
        #expect(try chain.sync("G").exitCode == 0)
        #expect(int(try chain.hq(["member", member, "--json"]).json["balance"]) == 375)

        // The redemption spent the oldest points (the enrolment bonus, then the second sale): all 375 lapse
        // within a year, none within 30 days; nothing has lapsed today.
        let expiring = try chain.hq(["report", "expiring", "--within", "400d", "--json"])
        let rows = (expiring.json["members"] as? [[String: Any]]) ?? []
        #expect(rows.map { $0["card"] as? String } == [referrer, member].sorted(), "\(expiring.stdout)")
        #expect(rows.first { $0["card"] as? String == member }.map { int($0["points"]) } == 375)
        #expect(((try chain.hq(["report", "expiring", "--within", "30d", "--json"]).json["members"]) as? [Any])?.isEmpty == true)
        for extreme in ["2000000000000000000w", "99999999999999999999d", "0d", "-5d", "soon", ""] {
            let refused = try chain.hq(["report", "expiring", "--within", extreme])
            #expect(refused.exitCode == 2 && refused.stderr.contains("--within"), "\(extreme): \(refused.stderr)")
        }
        let expire = try chain.hq(["expire", "--json"])
        #expect(expire.exitCode == 0 && int(expire.json["expired_points"]) == 0, "\(expire.stdout) \(expire.stderr)")
        let future = try chain.hq(["expire", "--as-of", "2099-01-01"])
        #expect(future.exitCode == 1 && future.stderr.contains("in the future"), "\(future.stderr)")
        #expect(try chain.till("G", ["verify"]).exitCode == 0)
    }
}
