import Foundation
import LoyaltyCore
import TestSupport
import Testing

/// A card handed out this morning at store A is scanned at store B before either has synced: B
/// earns the sale as a provisional member (nothing is lost), refuses redemption (nothing is vouched),
/// and head office attaches the points to the member; after the next pull both stores agree.
@Suite(.serialized) struct MembersAcrossTheChainTests {
    let folder = TemporaryFolder()
    let card = "2900000777774"

    func agent(_ arguments: [String], store: String) throws -> AgentProcess.Outcome {
        try AgentProcess.run(arguments + ["--db", folder.file("\(store).db"), "--json"])
    }

    @Test func aCardNoTillHasSeenEarnsAndConvergesAtHeadOffice() throws {
        let chain = try ChainHarness(folder: folder, name: "hq", stores: ["A", "B"])
        let hqDb = chain.database
        #expect(try agent(["enroll", card, "--name", "Ana"], store: "A").exitCode == 0)
        #expect(try agent(["award", card, "--amount", "30", "--receipt", "A-1"], store: "A").exitCode == 0)

        // B has never heard of the card: the sale still earns, provisionally.
        let earned = try agent(["award", card, "--amount", "20", "--receipt", "B-1"], store: "B")
        #expect(earned.exitCode == 0 && earned.json["points"] as? Int == 20 && earned.json["provisional"] as? Bool == true)
        #expect(try AgentProcess.run(["award", card, "--amount", "1", "--receipt", "B-9", "--db", folder.file("B.db")]).stdout
            .contains("not enrolled at this till yet"))
        let redeem = try agent(["redeem", card, "--points", "5", "--receipt", "B-2"], store: "B")
        #expect(redeem.exitCode == 1 && redeem.json["error"] as? String == "provisional_member", "\(redeem.stdout)")
        // Outside the chain's ranges (not an in-store EAN-13): refused as before.
        let outside = try agent(["award", "B0A1234", "--amount", "5", "--receipt", "B-3"], store: "B")
        #expect(outside.exitCode == 1 && outside.json["error"] as? String == "unknown_card")
        #expect(try agent(["member", card], store: "B").json["provisional"] as? Bool == true)

        try chain.start()
        defer { chain.stop() }
        func sync(_ store: String) throws -> AgentProcess.Outcome { try chain.sync(store) }
        for store in ["B", "A", "B"] { #expect(try sync(store).exitCode == 0) }
        let atHeadOffice = try AgentProcess.run(["member", card, "--json", "--db", hqDb], executable: SyncChaosTests.hqBinary)
        #expect(atHeadOffice.json["balance"] as? Int == 51, "\(atHeadOffice.stdout)")
        // B's provisional sale sits on the member A enrolled: one member, A's enrolment.
        #expect(atHeadOffice.json["name"] as? String == "Ana" && atHeadOffice.json["enrolled_store"] as? String == "A")
        // B now vouches for the member's whole balance and can redeem from it.
        let member = try agent(["member", card], store: "B")
        #expect(member.json["provisional"] as? Bool == false && member.json["balance"] as? Int == 51, "\(member.stdout)")
        #expect(try agent(["redeem", card, "--points", "40", "--receipt", "B-4"], store: "B").json["balance"] as? Int == 11)
        for store in ["B", "A"] { #expect(try sync(store).exitCode == 0) }
        #expect(try agent(["member", card], store: "A").json["balance"] as? Int == 11)
        for store in ["A", "B"] { #expect(try agent(["verify"], store: store).exitCode == 0) }
    }

    /// Defect (issue 23): a walk-in card that synced could not be enrolled, or was enrolled showing a
    /// balance of 0 at another store. A walk-in synced from store A is enrolled at store B: B pays the
    /// enrolment (bonus, welcome coupon), shows the points A's sale earned, and head office records B's
    /// enrolment on the card's one member.
    @Test func aWalkInCardThatSyncedIsEnrolledAtAnotherStoreWithItsPoints() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-walk-in", stores: ["A", "B"])
        try chain.start()
        defer { chain.stop() }
        let walkIn = GTIN.withCheckDigit("290000054321")
        #expect(try agent(["award", walkIn, "--amount", "30.00", "--receipt", "A-W1"], store: "A").exitCode == 0)
        #expect(try chain.sync("A").exitCode == 0)
        #expect(try chain.sync("B").exitCode == 0)
        let enrolled = try agent(["enroll", walkIn, "--name", "Wanda"], store: "B")
        #expect(enrolled.exitCode == 0, "\(enrolled.stdout) \(enrolled.stderr)")
        #expect(enrolled.json["balance"] as? Int == 30, "A's sale, vouched by head office: \(enrolled.stdout)")
        #expect(try chain.sync("B").exitCode == 0)
        let atHeadOffice = try chain.hq(["member", walkIn, "--json"])
        #expect(atHeadOffice.json["name"] as? String == "Wanda" && atHeadOffice.json["enrolled_store"] as? String == "B")
        #expect(atHeadOffice.json["balance"] as? Int == 30)
        // A learns the enrolment and the name at its next pull, and refuses a second enrolment.
        #expect(try chain.sync("A").exitCode == 0)
        let again = try agent(["enroll", walkIn], store: "A")
        #expect(again.exitCode == 1 && again.json["error"] as? String == "card_taken", "\(again.stdout)")
        #expect(try agent(["member", walkIn], store: "A").json["name"] as? String == "Wanda")
    }

    @Test func enrollingAProvisionalCardKeepsItsPoints() throws {
        let other = GTIN.withCheckDigit("290000012121")
        #expect(try agent(["award", other, "--amount", "12", "--receipt", "R-1"], store: "C").json["provisional"] as? Bool == true)
        let enrolled = try agent(["enroll", other, "--name", "Bo"], store: "C")
        #expect(enrolled.exitCode == 0 && enrolled.json["balance"] as? Int == 12, "\(enrolled.stdout)")
        #expect(try agent(["enroll", other], store: "C").json["error"] as? String == "card_taken")
        let redeemed = try agent(["redeem", other, "--points", "10", "--receipt", "R-2"], store: "C")
        #expect(redeemed.exitCode == 0 && redeemed.json["balance"] as? Int == 2)
        #expect(try agent(["verify"], store: "C").exitCode == 0)
    }

    /// A member who enrols and buys nothing is known at head office (balance 0) after the store's next
    /// sync, and at every other store after its next pull.
    @Test func anEnrolmentWithoutAPurchaseReachesHeadOfficeAndOtherStores() throws {
        let chain = try ChainHarness(folder: folder, name: "hq2", stores: ["D", "E"])
        let hqDb = chain.database
        let member = GTIN.withCheckDigit("290000034343")
        #expect(try agent(["enroll", member, "--name", "Cy Lee", "--birthday", "1991-07-04"], store: "D").exitCode == 0)
        try chain.start()
        defer { chain.stop() }
        func sync(_ store: String) throws -> AgentProcess.Outcome { try chain.sync(store) }
        #expect(try sync("D").json["pushed_entries"] as? Int == 1)
        let known = try AgentProcess.run(["member", member, "--json", "--db", hqDb], executable: SyncChaosTests.hqBinary)
        #expect(known.exitCode == 0 && known.json["balance"] as? Int == 0, "\(known.stdout) \(known.stderr)")
        #expect(known.json["name"] as? String == "Cy Lee" && known.json["birthday"] as? String == "1991-07-04")
        #expect(known.json["enrolled_store"] as? String == "D")
        let human = try AgentProcess.run(["member", member, "--db", hqDb], executable: SyncChaosTests.hqBinary)
        #expect(human.stdout.contains("enrolled at D"), "\(human.stdout)")
        func report() throws -> [String: Any] {
            try AgentProcess.run(["report", "members", "--json", "--db", hqDb], executable: SyncChaosTests.hqBinary).json
        }
        let before = try report()
        #expect((before["summary"] as? [String: Any])?["enrolled_never_bought"] as? Int == 1, "\(before)")
        let row = (before["members"] as? [[String: Any]])?.first { $0["card"] as? String == member }
        #expect(row?["purchases"] as? Int == 0 && row?["name"] as? String == "Cy Lee" && row?["birthday"] as? String == "1991-07-04")
        // E pulls: it knows the member (not provisional) and can serve them at once.
        #expect(try sync("E").exitCode == 0)
        let atE = try agent(["member", member], store: "E")
        #expect(atE.exitCode == 0 && atE.json["provisional"] as? Bool == false && atE.json["balance"] as? Int == 0, "\(atE.stdout)")
        let sale = try agent(["award", member, "--amount", "8", "--receipt", "E-1"], store: "E")
        #expect(sale.json["provisional"] as? Bool == false && sale.json["balance"] as? Int == 8)
        // Syncing again moves nothing twice.
        #expect(try sync("D").json["pushed_entries"] as? Int == 0)
        #expect(try sync("E").json["pushed_entries"] as? Int == 1)
        let after = try AgentProcess.run(["member", member, "--json", "--db", hqDb], executable: SyncChaosTests.hqBinary)
        #expect(after.json["balance"] as? Int == 8)
        #expect((try report()["summary"] as? [String: Any])?["enrolled_never_bought"] as? Int == 0)
        // A profile change at another store reaches head office too; the newest wins.
        let changed = try agent(["profile", member, "--name", "Cy Lee-Park"], store: "E")
        #expect(changed.exitCode == 0 && changed.json["name"] as? String == "Cy Lee-Park", "\(changed.stdout)")
        #expect(try agent(["profile", member], store: "E").json["error"] as? String == "nothing_to_change")
        #expect(try sync("E").json["pushed_entries"] as? Int == 1)
        let renamed = try AgentProcess.run(["member", member, "--json", "--db", hqDb], executable: SyncChaosTests.hqBinary)
        #expect(renamed.json["name"] as? String == "Cy Lee-Park" && renamed.json["birthday"] as? String == "1991-07-04")
    }

    /// Lost card: head office replaces it; after the next sync the till serves the member on the new
    /// card with the same balance and refuses the old one.
    @Test func aReplacedCardWorksAtTheTillAfterTheNextSync() throws {
        let chain = try ChainHarness(folder: folder, name: "hq3", stores: ["F"])
        let hqDb = chain.database
        let newCard = GTIN.withCheckDigit("290000056565")
        #expect(try agent(["enroll", card, "--store-id", "F"], store: "F").exitCode == 0)
        #expect(try agent(["award", card, "--amount", "40", "--receipt", "F-1"], store: "F").exitCode == 0)
        try chain.start()
        defer { chain.stop() }
        let sync = ["sync", "--hq-url", "http://127.0.0.1:\(chain.port)", "--store-secret-file", folder.file("F.secret")]
        #expect(try agent(sync, store: "F").exitCode == 0)

        let replace = ["cards", "replace", card, newCard, "--reason", "lost", "--by", "ana.ops", "--db", hqDb]
        let replaced = try AgentProcess.run(replace + ["--json"], executable: SyncChaosTests.hqBinary)
        #expect(replaced.exitCode == 0, "\(replaced.stdout) \(replaced.stderr)")
        let again = try AgentProcess.run(replace + ["--json"], executable: SyncChaosTests.hqBinary)
        #expect(again.exitCode == 1 && again.json["error"] as? String == "card_in_use", "\(again.stdout)")
        let bank = try AgentProcess.run(
            ["cards", "replace", card, "4111111111111111", "--db", hqDb, "--json"], executable: SyncChaosTests.hqBinary)
        #expect(bank.exitCode == 2 && !bank.stdout.contains("1111111111"))
        let audit = try AgentProcess.run(["report", "audit", "--db", hqDb], executable: SyncChaosTests.hqBinary)
        #expect(audit.stdout.contains("ana.ops") && audit.stdout.contains("lost"), "\(audit.stdout)")

        #expect(try agent(sync, store: "F").exitCode == 0)
        let member = try agent(["member", newCard], store: "F")
        #expect(member.exitCode == 0 && member.json["balance"] as? Int == 40 && member.json["provisional"] as? Bool == false)
        #expect(try agent(["award", card, "--amount", "5", "--receipt", "F-2"], store: "F").json["error"] as? String == "blocked_card")
        #expect(try agent(["award", newCard, "--amount", "5", "--receipt", "F-3"], store: "F").json["balance"] as? Int == 45)
        #expect(try agent(sync, store: "F").exitCode == 0)
        let atHeadOffice = try AgentProcess.run(["member", card, "--json", "--db", hqDb], executable: SyncChaosTests.hqBinary)
        #expect(atHeadOffice.json["balance"] as? Int == 45 && atHeadOffice.json["blocked"] as? Bool == true)
        #expect(try agent(["verify"], store: "F").exitCode == 0)
    }

    /// Several cards on one member: a phone barcode added at one store earns and redeems on the same
    /// balance, and the other stores and head office learn it after syncing.
    @Test func aPhoneBarcodeAddedAtOneStoreIsKnownEverywhere() throws {
        let chain = try ChainHarness(folder: folder, name: "hq4", stores: ["G", "H"])
        let hqDb = chain.database
        let phone = "PHONE77AB"
        #expect(try agent(["enroll", card, "--name", "Ana"], store: "G").exitCode == 0)
        let added = try agent(["cards", "add", card, phone], store: "G")
        #expect(added.exitCode == 0 && (added.json["cards"] as? [String]).map(Set.init) == [card, phone], "\(added.stdout)")
        #expect(try agent(["award", phone, "--amount", "25", "--receipt", "G-1"], store: "G").json["balance"] as? Int == 25)
        #expect(try agent(["member", card], store: "G").json["balance"] as? Int == 25)
        // Bad input, nothing changes.
        // Adding it again is a retry (nothing changes); another member cannot take it.
        let again = try agent(["cards", "add", card, phone], store: "G")
        #expect(again.exitCode == 0 && again.json["replayed"] as? Bool == true, "\(again.stdout)")
        #expect(try agent(["enroll", "2900000555556"], store: "G").exitCode == 0)
        #expect(try agent(["cards", "add", "2900000555556", phone], store: "G").json["error"] as? String == "card_taken")
        #expect(try agent(["cards", "add", "2900000123458", "PHONE99"], store: "G").json["error"] as? String == "unknown_card")
        #expect(try agent(["cards", "add", card, card], store: "G").exitCode == 2)
        #expect(try agent(["cards", "add", card, "4111111111111111"], store: "G").json["error"] as? String == "payment_card")

        try chain.start()
        defer { chain.stop() }
        func sync(_ store: String) throws -> AgentProcess.Outcome { try chain.sync(store) }
        #expect(try sync("G").exitCode == 0)
        let atHeadOffice = try AgentProcess.run(["member", phone, "--json", "--db", hqDb], executable: SyncChaosTests.hqBinary)
        #expect((atHeadOffice.json["cards"] as? [String]).map(Set.init) == [card, phone] && atHeadOffice.json["balance"] as? Int == 25)
        #expect(try sync("H").exitCode == 0)
        let listed = try agent(["cards", "list", phone], store: "H")
        #expect((listed.json["cards"] as? [String]).map(Set.init) == [card, phone], "\(listed.stdout)")
        #expect(try agent(["redeem", card, "--points", "20", "--receipt", "H-1"], store: "H").json["balance"] as? Int == 5)
        for store in ["H", "G"] { #expect(try sync(store).exitCode == 0) }
        #expect(try agent(["member", phone], store: "G").json["balance"] as? Int == 5)
    }

    /// One person enrolled twice at two offline stores: head office merges the records, both stores
    /// converge on one balance over both cards at their next sync, and every ledger still verifies.
    @Test func aMergeAtHeadOfficeConvergesAtTheStores() throws {
        let chain = try ChainHarness(folder: folder, name: "hq5", stores: ["J", "K"])
        let hqDb = chain.database
        let (keep, other) = (card, GTIN.withCheckDigit("290000078787"))
        #expect(try agent(["enroll", keep, "--name", "Ana"], store: "J").exitCode == 0)
        #expect(try agent(["award", keep, "--amount", "30", "--receipt", "J-1"], store: "J").exitCode == 0)
        #expect(try agent(["enroll", other, "--name", "Ana"], store: "K").exitCode == 0)
        #expect(try agent(["award", other, "--amount", "12", "--receipt", "K-1"], store: "K").exitCode == 0)
        try chain.start()
        defer { chain.stop() }
        func sync(_ store: String) throws -> AgentProcess.Outcome { try chain.sync(store) }
        for store in ["J", "K", "J"] { #expect(try sync(store).exitCode == 0) }
        // J now knows both records (K's member came down in the pull).
        #expect(try agent(["member", other], store: "J").json["balance"] as? Int == 12)

        let merge = ["members", "merge", keep, other, "--reason", "same person", "--by", "ops", "--db", hqDb, "--json"]
        let merged = try AgentProcess.run(merge, executable: SyncChaosTests.hqBinary)
        #expect(merged.exitCode == 0, "\(merged.stdout) \(merged.stderr)")
        let again = try AgentProcess.run(merge, executable: SyncChaosTests.hqBinary)
        #expect(again.exitCode == 2 && again.json["error"] as? String == "same_member", "\(again.stdout)")
        let itself = try AgentProcess.run(["members", "merge", keep, keep, "--db", hqDb, "--json"], executable: SyncChaosTests.hqBinary)
        #expect(itself.exitCode == 2)

        for store in ["J", "K"] {
            #expect(try sync(store).exitCode == 0)
            for held in [keep, other] {
                let member = try agent(["member", held], store: store)
                #expect(member.json["balance"] as? Int == 42, "\(store) \(held): \(member.stdout)")
            }
        }
        // The merged-away card keeps working, on the one balance.
        #expect(try agent(["redeem", other, "--points", "40", "--receipt", "J-2"], store: "J").json["balance"] as? Int == 2)
        #expect(try agent(["award", other, "--amount", "5", "--receipt", "K-2"], store: "K").exitCode == 0)
        for store in ["J", "K", "J"] { #expect(try sync(store).exitCode == 0) }
        let atHeadOffice = try AgentProcess.run(["member", keep, "--json", "--db", hqDb], executable: SyncChaosTests.hqBinary)
        #expect(atHeadOffice.json["balance"] as? Int == 7, "\(atHeadOffice.stdout)")
        #expect(try agent(["member", keep], store: "J").json["balance"] as? Int == 7)
        for store in ["J", "K"] { #expect(try agent(["verify"], store: store).exitCode == 0) }
        let audit = try AgentProcess.run(["report", "audit", "--db", hqDb], executable: SyncChaosTests.hqBinary)
        #expect(audit.stdout.contains("members merge") && audit.stdout.contains("same person"))
    }

    /// The chain's member ranges are a head-office setting every store adopts at its next pull.
    @Test func memberRangesSetAtHeadOfficeReachTheTills() throws {
        let chain = try ChainHarness(folder: folder, name: "hq6", stores: ["L"])
        let hqDb = chain.database
        let bad = try AgentProcess.run(["member-ranges", "set", "4", "--db", hqDb, "--json"], executable: SyncChaosTests.hqBinary)
        #expect(bad.exitCode == 2 && bad.json["error"] as? String == "member_range_covers_payment_cards", "\(bad.stdout)")
        let set = try AgentProcess.run(["member-ranges", "set", "77", "--by", "ops", "--db", hqDb], executable: SyncChaosTests.hqBinary)
        #expect(set.exitCode == 0, "\(set.stderr)")
        let shown = try AgentProcess.run(["member-ranges", "show", "--db", hqDb, "--json"], executable: SyncChaosTests.hqBinary)
        #expect(shown.json["member_ranges"] as? [String] == ["77"])

        try chain.start()
        defer { chain.stop() }
        // Before the pull: the in-store default; after it: the chain's ranges.
        #expect(try agent(["award", card, "--amount", "3", "--receipt", "L-0"], store: "L").json["provisional"] as? Bool == true)
        let sync = ["sync", "--hq-url", "http://127.0.0.1:\(chain.port)", "--store-secret-file", folder.file("L.secret")]
        #expect(try agent(sync, store: "L").exitCode == 0)
        let inRange = try agent(["award", "7700123456", "--amount", "9", "--receipt", "L-1"], store: "L")
        #expect(inRange.exitCode == 0 && inRange.json["provisional"] as? Bool == true, "\(inRange.stdout)")
        let outside = try agent(["award", GTIN.withCheckDigit("290000091919"), "--amount", "9", "--receipt", "L-2"], store: "L")
        #expect(outside.exitCode == 2 && outside.json["error"] as? String == "not_a_member_card", "\(outside.stdout)")
        // A till's own setting wins over head office's.
        let local = try AgentProcess.run(
            ["award", GTIN.withCheckDigit("290000091919"), "--amount", "9", "--receipt", "L-3", "--db", folder.file("L.db"), "--json"],
            environment: ["LOYALTY_MEMBER_RANGES": "29"])
        #expect(local.exitCode == 0 && local.json["provisional"] as? Bool == true, "\(local.stdout)")
    }
}
