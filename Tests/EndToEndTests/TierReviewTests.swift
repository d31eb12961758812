import Foundation
import LoyaltyCore
import TestSupport
import Testing

/// Tiers go up at once at the till and down only at head office's review, which the tills then apply.
@Suite(.serialized) struct TierReviewTests {
    let folder = TemporaryFolder()

    @Test func aReviewMovesAMemberDownAndTheTillFollowsAfterItsSync() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-tiers", stores: ["T"])
        try chain.start()
        defer { chain.stop() }
        let card = GTIN.withCheckDigit("290000099901")
        #expect(try chain.till("T", ["enroll", card]).exitCode == 0)
        let award = try chain.till("T", ["award", card, "--amount", "600.00", "--receipt", "BIG-1"])
        #expect(award.json["tier"] as? String == "silver", "an upgrade is at once: \(award.stdout)")
        #expect(try chain.sync("T").exitCode == 0)

        // Two years on, the spend has left the 12-month window: the review moves the member down.
        let later = Date().addingTimeInterval(2 * 365 * 86_400).formatted(.iso8601.year().month().day())
        let review = try chain.hq(["tiers", "review", "--as-of", later, "--json"])
        #expect(review.exitCode == 0 && review.json["changed"] as? Int == 1, "\(review.stdout) \(review.stderr)")
        #expect((review.json["tiers"] as? [String: Int])?["base"] == 1)
        #expect(try chain.hq(["tiers", "review", "--as-of", later, "--json"]).json["changed"] as? Int == 0, "a second review changes nothing")
        // Head office's live spend still reaches silver today, and upgrades win at once over the review.
        #expect(try chain.hq(["member", card, "--json"]).json["tier"] as? String == "silver")

        // Today's review restores silver; a member's tier at the till follows head office after a sync.
        let today = try chain.hq(["tiers", "review", "--json"])
        #expect(today.json["changed"] as? Int == 1 && (today.json["tiers"] as? [String: Int])?["silver"] == 1, "\(today.stdout)")
        #expect(try chain.sync("T").exitCode == 0)
        #expect(try chain.till("T", ["member", card]).json["tier"] as? String == "silver")
        #expect(try chain.till("T", ["verify"]).exitCode == 0)
        // The tier report counts members as a review would place them.
        let report = try chain.hq(["report", "tiers", "--json"])
        #expect(report.json["summary"] as? [String: Int] == ["silver": 1], "\(report.stdout)")
        let laterReport = try chain.hq(["report", "tiers", "--as-of", later, "--json"])
        #expect(laterReport.json["summary"] as? [String: Int] == ["base": 1])
    }
}
