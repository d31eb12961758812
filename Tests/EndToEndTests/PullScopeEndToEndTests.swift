import Foundation
import LoyaltyCore
import TestSupport
import Testing

/// Head office serving `--pull-scope store` (a chain of many tills): each store's tills pull the members the
/// store served, so a member from another store is new to a till until the store's first sale for them
/// reaches head office: that sale earns provisionally, and the next sync brings the member's whole standing.
@Suite(.serialized) struct PullScopeEndToEndTests {
    let folder = TemporaryFolder()
    let card = "2900000777774"

    @Test func aMemberFromAnotherStoreEarnsProvisionallyThenCountsWithTheirWholeStanding() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-scoped", stores: ["A", "B", "C"])
        try chain.start(["--pull-scope", "store"])
        defer { chain.stop() }
        #expect(try chain.till("A", ["enroll", card, "--name", "Ana"]).exitCode == 0)
        #expect(try chain.till("A", ["award", card, "--amount", "30", "--receipt", "A-1"]).exitCode == 0)
        for store in ["A", "B", "C"] { #expect(try chain.sync(store).exitCode == 0) }

        // Store B has not served Ana: her card is new there; the sale earns for a provisional member.
        let unknown = try chain.till("B", ["member", card])
        #expect(unknown.exitCode == 1, "store B was sent a member it never served: \(unknown.stdout)")
        let earned = try chain.till("B", ["award", card, "--amount", "20", "--receipt", "B-1"])
        #expect(earned.json["provisional"] as? Bool == true, "\(earned.stdout)")
        #expect(try chain.sync("B").exitCode == 0)

        // After B's sync: her one member with A's enrolment and both sales, and B may spend from it.
        let atB = try chain.till("B", ["member", card])
        #expect(atB.json["provisional"] as? Bool == false && atB.json["balance"] as? Int == 50, "\(atB.stdout)")
        #expect(atB.json["name"] as? String == "Ana")
        #expect(
            try chain.till("B", ["redeem", card, "--points", "40", "--receipt", "B-2"]).json["balance"] as? Int == 10)
        for store in ["B", "A", "C"] { #expect(try chain.sync(store).exitCode == 0) }
        // A, which served her, follows B's redemption; C, which never did, was sent nothing of her.
        #expect(try chain.till("A", ["member", card]).json["balance"] as? Int == 10)
        #expect(try chain.till("C", ["member", card]).exitCode == 1)
        #expect(try chain.hq(["member", card, "--json"]).json["balance"] as? Int == 10)
        for store in ["A", "B", "C"] { #expect(try chain.till(store, ["verify"]).exitCode == 0) }

        // Ana comes to store C to spend her points before buying anything there: the till does not know her yet and
        // refuses, asking head office at its next sync; after it, C vouches for her balance.
        let refused = try chain.till("C", ["redeem", card, "--points", "5", "--receipt", "C-1"])
        #expect(refused.exitCode == 1 && refused.json["error"] as? String == "unknown_card", "\(refused.stdout)")
        #expect(try chain.sync("C").exitCode == 0)
        let redeemed = try chain.till("C", ["redeem", card, "--points", "5", "--receipt", "C-1"])
        #expect(redeemed.exitCode == 0 && redeemed.json["balance"] as? Int == 5, "\(redeemed.stdout)")
        for store in ["C", "A"] { #expect(try chain.sync(store).exitCode == 0) }
        #expect(try chain.till("A", ["member", card]).json["balance"] as? Int == 5)
        #expect(try chain.hq(["member", card, "--json"]).json["balance"] as? Int == 5)
    }

    /// Found by attack: a card enrolled at another store was enrolled again at a till that did not know it (a second
    /// enrolment bonus, spent), and a return of another store's sale showed the member's balance as this return's
    /// alone. A till with head office configured asks it first.
    @Test func aTillAsksHeadOfficeBeforeEnrollingACardOrReturningForAMemberItDoesNotKnow() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-asks", stores: ["A", "B"])
        try chain.start(["--pull-scope", "store"])
        defer { chain.stop() }
        func headOffice(_ store: String) -> [String] {
            ["--hq-url", "http://127.0.0.1:\(chain.port)", "--store-secret-file", folder.file("\(store).secret")]
        }
        #expect(try chain.till("A", ["enroll", card, "--name", "Ana"]).exitCode == 0)
        #expect(try chain.till("A", ["award", card, "--amount", "80", "--receipt", "A-1"]).exitCode == 0)
        #expect(try chain.till("A", ["award", card, "--amount", "300", "--receipt", "A-2"]).exitCode == 0)
        for store in ["A", "B"] { #expect(try chain.sync(store).exitCode == 0) }

        // Head office refusing the till (a wrong secret) is said, not taken for being offline.
        let wrongSecret = folder.file("wrong.secret")
        FileManager.default.createFile(
            atPath: wrongSecret, contents: Data("not the secret".utf8), attributes: [.posixPermissions: 0o600])
        let refused = try chain.till(
            "B",
            [
                "enroll", "2900000999992", "--hq-url", "http://127.0.0.1:\(chain.port)", "--store-secret-file",
                wrongSecret,
            ])
        #expect(refused.exitCode == 0, "the till decides alone: \(refused.stdout)")
        #expect(refused.stderr.contains("head office refused"), "\(refused.stdout) \(refused.stderr)")
        let again = try chain.till("B", ["enroll", card, "--name", "Mallory"] + headOffice("B"))
        #expect(again.exitCode == 1 && again.json["error"] as? String == "card_taken", "\(again.stdout)")
        // Adding Ana's card to a member of this store, or a new card to Ana through her card: head office first.
        let yara = "2900000123458"
        #expect(try chain.till("B", ["enroll", yara, "--name", "Yara"]).exitCode == 0)
        let taken = try chain.till("B", ["cards", "add", yara, card] + headOffice("B"))
        #expect(taken.exitCode == 1, "Ana's card was added to Yara: \(taken.stdout)")
        let phone = "2900000555556"
        let added = try chain.till("B", ["cards", "add", card, phone] + headOffice("B"))
        #expect(added.exitCode == 0 && (added.json["cards"] as? [String])?.contains(phone) == true, "\(added.stdout)")
        let returned = try chain.till(
            "B", ["refund", "--receipt", "A-1", "--sold-at", "A", "--return-receipt", "B-R1"] + headOffice("B"))
        #expect(
            returned.exitCode == 0 && returned.json["balance"] as? Int == 300, "\(returned.stdout) \(returned.stderr)")
        for store in ["B", "A"] { #expect(try chain.sync(store).exitCode == 0) }
        let atHeadOffice = try chain.hq(["member", card, "--json"])
        #expect(atHeadOffice.json["balance"] as? Int == 300 && atHeadOffice.json["name"] as? String == "Ana")
        #expect(try chain.till("A", ["member", card]).json["balance"] as? Int == 300)
    }

    /// Found by attack: tills that pulled every member under `chain` kept members head office no longer sent them
    /// under `store` (a balance of 50 shown and spent for a member holding 10); back under `chain`, members
    /// changed before a till's cursor never came. A till whose scope changes pulls again from the start, and going
    /// to `store` first forgets the members it held only from head office.
    @Test func aTillFollowsAChangeOfPullScopeWithoutStaleMembers() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-switch", stores: ["A", "B"])
        let bea = "2900000123458"
        try chain.start()
        #expect(try chain.till("A", ["enroll", card, "--name", "Ana"]).exitCode == 0)
        #expect(try chain.till("A", ["award", card, "--amount", "50", "--receipt", "A-1"]).exitCode == 0)
        for store in ["A", "B"] { #expect(try chain.sync(store).exitCode == 0) }
        #expect(try chain.till("B", ["member", card]).json["balance"] as? Int == 50)
        chain.stop()

        try chain.start(["--pull-scope", "store"])
        #expect(try chain.till("A", ["redeem", card, "--points", "40", "--receipt", "A-2"]).exitCode == 0)
        #expect(try chain.till("A", ["enroll", bea, "--name", "Bea"]).exitCode == 0)
        for store in ["A", "B"] { #expect(try chain.sync(store).exitCode == 0) }
        let stale = try chain.till("B", ["redeem", card, "--points", "50", "--receipt", "B-1"])
        #expect(stale.exitCode == 1, "store B spent points Ana no longer has: \(stale.stdout)")
        #expect(try chain.sync("B").exitCode == 0)
        #expect(try chain.till("B", ["member", card]).json["balance"] as? Int == 10, "asked for at the sync")
        chain.stop()

        try chain.start()
        defer { chain.stop() }
        #expect(try chain.sync("B").exitCode == 0)
        let learned = try chain.till("B", ["member", bea])
        #expect(learned.exitCode == 0 && learned.json["name"] as? String == "Bea", "\(learned.stdout)")
        for store in ["A", "B"] { #expect(try chain.till(store, ["verify"]).exitCode == 0) }
    }
}
