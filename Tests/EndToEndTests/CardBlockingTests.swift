import Foundation
import TestSupport
import Testing

/// `loyalty-hq cards block` and `cards unblock` as an operator uses them, with a till that syncs:
/// checked (a mistyped card is refused), reversible, and in the audit trail with who and why.
@Suite(.serialized) struct CardBlockingTests {
    let folder = TemporaryFolder()
    let card = "2900000777774"

    @Test func aBlockIsCheckedReversibleAndAudited() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-blocks", stores: ["S-BLK"])
        try chain.start()
        defer { chain.stop() }
        #expect(try chain.till("S-BLK", ["enroll", card, "--name", "Ana"]).exitCode == 0)
        #expect(try chain.till("S-BLK", ["award", card, "--amount", "20.00", "--receipt", "B-1"]).exitCode == 0)
        #expect(try chain.sync("S-BLK").exitCode == 0)

        // Defect: a block of a card nobody holds went through without a word and made a "member".
        let typo = try chain.hq(["cards", "block", "2900000777781", "--json"])
        #expect(typo.exitCode == 1 && typo.json["error"] as? String == "unknown_card", "\(typo.stdout)")
        #expect(typo.json["message"] as? String ?? "" != "" && typo.stdout.contains("--force"))
        #expect(try chain.hq(["report", "members", "--json"]).stdout.contains("2900000777781") == false)

        let blocked = try chain.hq(["cards", "block", card, "--reason", "reported lost", "--by", "ana"])
        #expect(blocked.exitCode == 0 && blocked.stdout.contains("is blocked"), "\(blocked.stdout)")
        #expect(try chain.hq(["cards", "block", card]).stdout.contains("already blocked"))
        #expect(try chain.sync("S-BLK").exitCode == 0)
        let refused = try chain.till("S-BLK", ["award", card, "--amount", "5.00", "--receipt", "B-2"])
        #expect(refused.exitCode == 1 && refused.json["error"] as? String == "blocked_card", "\(refused.stdout)")
        // Found by an outside review: adding a card through the blocked one carried its points onto a card
        // nobody blocked, and spent them.
        let around = try chain.till("S-BLK", ["cards", "add", card, "2900000777811"])
        #expect(around.exitCode == 1 && around.json["error"] as? String == "blocked_card", "\(around.stdout)")
        #expect(try chain.till("S-BLK", ["member", "2900000777811"]).exitCode != 0, "the new card holds nothing")
        let renamed = try chain.till("S-BLK", ["profile", card, "--name", "Thief"])
        #expect(renamed.exitCode == 1 && renamed.json["error"] as? String == "blocked_card", "\(renamed.stdout)")

        // A misread check digit is named as such: never blocked "by force" while the real card stays active.
        let misread = try chain.hq(["cards", "block", "2900000777782", "--force", "--json"])
        #expect(misread.exitCode == 2 && misread.json["error"] as? String == "bad_check_digit", "\(misread.stdout)")
        let badNew = try chain.hq(["cards", "replace", card, "2900000777782", "--json"])
        #expect(badNew.exitCode == 2 && badNew.json["error"] as? String == "bad_check_digit", "\(badNew.stdout)")
        #expect(try chain.hq(["cards", "block", card, "--by", ""]).exitCode == 2, "the audit trail names who acted")

        // Found again: the block is lifted, and the till accepts the card after its next sync.
        let lifted = try chain.hq(["cards", "unblock", card, "--reason", "found in the car", "--by", "ben"])
        #expect(lifted.exitCode == 0 && lifted.stdout.contains("no longer blocked"), "\(lifted.stdout) \(lifted.stderr)")
        let again = try chain.hq(["cards", "unblock", card, "--json"])
        #expect(again.exitCode == 1 && again.json["error"] as? String == "not_blocked" && again.stdout.contains("is not blocked"))
        #expect(try chain.sync("S-BLK").exitCode == 0)
        let accepted = try chain.till("S-BLK", ["award", card, "--amount", "5.00", "--receipt", "B-3"])
        #expect(accepted.exitCode == 0 && accepted.json["balance"] as? Int == 25, "\(accepted.stdout)")

        // A card lost before any store used it: blocked on purpose with --force.
        let unused = "2900000777798"
        #expect(try chain.hq(["cards", "block", unused, "--force", "--reason", "stolen stock"]).exitCode == 0)

        let audit = try chain.hq(["report", "audit", "--csv"]).stdout
        #expect(audit.contains("ana,cards block,card \(card) blocked,reported lost"), "\(audit)")
        #expect(audit.contains("ben,cards unblock,card \(card) unblocked,found in the car"), "\(audit)")
        #expect(audit.contains("cards block,card \(unused) blocked,stolen stock"))
        #expect(audit.components(separatedBy: "cards block,card \(card)").count == 2, "the repeated block changed nothing")

        // The card blocked by force is nobody: no report or export counts it as a member.
        for report in ["members", "lifecycle", "tiers", "loyalty-types", "rfm"] {
            let shown = try chain.hq(["report", report, "--json"])
            #expect(shown.exitCode == 0 && !shown.stdout.contains(unused), "\(report): \(shown.stdout)")
        }
        let welcome = try chain.hq(["export", "welcome"])
        #expect(!welcome.stdout.contains(unused), "\(welcome.stdout)")
        let tiers = try chain.hq(["report", "tiers", "--json"])
        #expect((tiers.json["summary"] as? [String: Int])?.values.reduce(0, +) == 1, "\(tiers.stdout)")
        #expect((tiers.json["held_now"] as? [String: Int])?.values.reduce(0, +) == 1, "\(tiers.stdout)")
        // At the till too (found by an outside review): the card is refused, counts as no member, and
        // cannot be added to a member.
        #expect(try chain.sync("S-BLK").exitCode == 0)
        let added = try chain.till("S-BLK", ["cards", "add", card, unused])
        #expect(added.exitCode == 1 && added.json["error"] as? String == "blocked_card", "\(added.stdout)")
        let looked = try chain.till("S-BLK", ["member", unused])
        #expect(looked.exitCode == 1 && looked.json["error"] as? String == "blocked_card", "\(looked.stdout)")
        #expect(try chain.till("S-BLK", ["status"]).json["members"] as? Int == 1)
        #expect(try chain.till("S-BLK", ["verify"]).json["members"] as? Int == 1)
        let enrolled = try chain.till("S-BLK", ["enroll", unused])
        #expect(enrolled.exitCode == 1 && enrolled.json["error"] as? String == "blocked_card", "\(enrolled.stdout)")
        let atHeadOffice = try chain.hq(["member", unused])
        #expect(atHeadOffice.stdout.contains("no member holds it"), "\(atHeadOffice.stdout)")
    }
}
