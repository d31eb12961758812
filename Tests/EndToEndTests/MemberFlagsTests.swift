import Foundation
import LoyaltyCore
import TestSupport
import Testing

/// Head office's segments reach the till: after `loyalty-hq segments publish` and a sync, the cashier
/// sees "welcome back" for a dormant member, a new member's greeting, the distance to the next tier
/// and a birthday this week.
@Suite(.serialized) struct MemberFlagsTests {
    let folder = TemporaryFolder()

    @Test func publishedFlagsReachTheTillWithTheNextSync() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-flags", stores: ["A"])
        try chain.start()
        defer { chain.stop() }
        let dormant = GTIN.withCheckDigit("290000055501")
        let newcomer = GTIN.withCheckDigit("290000055502")
        let formatter = ISO8601DateFormatter()
        let history = folder.file("history.csv")
        FileManager.default.createFile(atPath: history, contents: Data([
            "card,store,receipt,time,amount",
            "\(dormant),OLD,D1,\(formatter.string(from: Date().addingTimeInterval(-400 * 86_400))),80.00",
            "\(dormant),OLD,D2,\(formatter.string(from: Date().addingTimeInterval(-200 * 86_400))),20.00",
        ].joined(separator: "\n").utf8))
        #expect(try chain.hq(["import", history]).exitCode == 0)
        let birthday = Date().addingTimeInterval(2 * 86_400).formatted(.iso8601.year().month().day())
        let enrolled = try chain.till("A", ["enroll", newcomer, "--name", "Ada", "--birthday", "1990" + birthday.dropFirst(4)])
        #expect(enrolled.exitCode == 0, "\(enrolled.stderr)")
        #expect(try chain.sync("A").exitCode == 0)

        let published = try chain.hq(["segments", "publish", "--json"])
        #expect(published.exitCode == 0, "\(published.stderr)")
        #expect(published.json["changed"] as? Int == 2, "\(published.stdout)")
        #expect(try chain.hq(["segments", "publish", "--json"]).json["changed"] as? Int == 0, "publishing again changes nothing")
        // Found by review: a future --as-of flagged every member welcome_back (a 300 % promotion at the tills).
        let future = try chain.hq(["segments", "publish", "--as-of", "2199-06-01"])
        #expect(future.exitCode == 2 && future.stderr.contains("in the future"), "\(future.stderr)")
        #expect(try chain.sync("A").exitCode == 0)

        let back = try chain.till("A", ["member", dormant])
        // The only member with spend in the window also carries all of it: a super user too.
        #expect(back.json["flags"] as? [String] == ["welcome_back", "super_user"], "\(back.stdout)")
        let text = try AgentProcess.run(["member", dormant, "--db", folder.file("A.db")])
        #expect(text.stdout.contains("dormant: welcome back"), "\(text.stdout)")

        let greeted = try chain.till("A", ["member", newcomer])
        #expect((greeted.json["flags"] as? [String])?.contains("new_member") == true, "\(greeted.stdout)")
        #expect(greeted.json["next_tier"] as? String == "silver" && greeted.json["spend_to_next_tier"] as? String == "500.00")
        #expect(greeted.json["birthday_this_week"] as? Bool == true)
    }

    @Test func aReferralTravelsWithTheEnrolmentAndMakesTheReferrerLatent() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-referrals", stores: ["R"])
        try chain.start()
        defer { chain.stop() }
        let referrer = GTIN.withCheckDigit("290000066601")
        let friend = GTIN.withCheckDigit("290000066602")
        #expect(try chain.till("R", ["enroll", referrer]).exitCode == 0)
        let selfReferral = try chain.till("R", ["enroll", friend, "--referred-by", friend])
        #expect(selfReferral.exitCode == 2 && selfReferral.json["error"] as? String == "self_referral", "\(selfReferral.stdout)")
        let bankCard = try chain.till("R", ["enroll", friend, "--referred-by", "4111111111111111"])
        #expect(bankCard.exitCode == 2 && !(bankCard.stdout + bankCard.stderr).contains("4111111111111111"))
        let enrolled = try chain.till("R", ["enroll", friend, "--referred-by", referrer])
        #expect(enrolled.exitCode == 0 && enrolled.json["referred_by"] as? String == referrer, "\(enrolled.stdout)")
        #expect(try chain.sync("R").exitCode == 0)
        let types = try chain.hq(["report", "loyalty-types", "--json"])
        let byCard = Dictionary(
            uniqueKeysWithValues: (types.json["members"] as? [[String: Any]] ?? []).map { ($0["card"] as? String ?? "", $0) })
        #expect(byCard[referrer]?["type"] as? String == "latent", "\(types.stdout)")
        #expect(byCard[referrer]?["attitude_high"] as? Bool == true)
        #expect(byCard[friend]?["type"] as? String == "none")

        // A satisfied answer (kiosk or `feedback`) makes the friend's attitude high too.
        let refused = try chain.till("R", ["feedback", friend, "--score", "6"])
        #expect(refused.exitCode == 2 && refused.json["error"] as? String == "bad_score", "\(refused.stdout)")
        #expect(try chain.till("R", ["feedback", friend, "--score", "5"]).exitCode == 0)
        #expect(try chain.till("R", ["feedback", friend, "--score", "4"]).exitCode == 0)
        #expect(try chain.sync("R").exitCode == 0)
        let after = try chain.hq(["report", "loyalty-types", "--json"])
        let friendAfter = (after.json["members"] as? [[String: Any]] ?? []).first { $0["card"] as? String == friend }
        #expect(friendAfter?["type"] as? String == "latent" && friendAfter?["attitude_high"] as? Bool == true, "\(after.stdout)")
        #expect(try chain.till("R", ["verify"]).exitCode == 0, "the ledger still verifies")
    }
}
