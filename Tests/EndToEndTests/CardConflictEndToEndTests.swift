import Foundation
import LoyaltyCore
import TestSupport
import Testing

/// Two stores offline give one card to two people (A adds it to Ana, B enrols it for Bea); head office
/// lists the conflict whichever store syncs first, and an operator resolves it, audited.
@Suite(.serialized) struct CardConflictEndToEndTests {
    let folder = TemporaryFolder()

    @Test func aCardGivenTwiceOfflineIsListedAndResolved() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-conflicts", stores: ["A", "B"])
        try chain.start()
        defer { chain.stop() }
        let ana = GTIN.withCheckDigit("290000088821")
        let shared = GTIN.withCheckDigit("290000088822")
        #expect(try chain.till("A", ["enroll", ana, "--name", "Ana"]).exitCode == 0)
        #expect(try chain.till("A", ["cards", "add", ana, shared]).exitCode == 0)
        #expect(try chain.till("B", ["enroll", shared, "--name", "Bea"]).exitCode == 0)
        for store in ["A", "B"] { #expect(try chain.sync(store).exitCode == 0) }
        let listed = try chain.hq(["report", "card-conflicts"])
        #expect(listed.stdout.contains("card=\(shared)") && listed.stdout.contains("kind=enrolled"), "\(listed.stdout)")
        let resolved = try chain.hq([
            "cards", "resolve", shared, "--reason", "Bea is Ana's daughter; new card given", "--by", "ops",
        ])
        #expect(resolved.exitCode == 0, "\(resolved.stdout) \(resolved.stderr)")
        #expect(try chain.hq(["report", "card-conflicts"]).stdout.contains("No card-conflicts to report."))
        #expect(try chain.hq(["report", "audit"]).stdout.contains("cards resolve"))
        let again = try chain.hq(["cards", "resolve", shared, "--reason", "again"])
        #expect(again.exitCode == 1 && again.stderr.contains("no open conflict"), "\(again.stderr)")
    }
}
