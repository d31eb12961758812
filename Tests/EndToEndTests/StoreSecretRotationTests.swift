import Foundation
import TestSupport
import Testing

/// `loyalty-hq stores rotate-secret` and `stores revoke` through the real binaries: a till keeps syncing
/// through a rotation with overlap, a revoked store is refused with a word that says so.
@Suite(.serialized) struct StoreSecretRotationTests {
    let folder = TemporaryFolder()

    @Test func aTillSyncsThroughARotationAndARevokedStoreIsRefused() throws {
        let chain = try ChainHarness(folder: folder, name: "hq-rotation", stores: ["R1"])
        try chain.start(["--credential-cache-seconds", "0"])
        defer { chain.stop() }
        #expect(try chain.till("R1", ["enroll", "2900000777774"]).exitCode == 0)
        #expect(try chain.sync("R1").exitCode == 0)

        let rotated = try chain.hq(["stores", "rotate-secret", "R1", "--overlap-hours", "1", "--by", "ops"])
        #expect(rotated.exitCode == 0, "\(rotated.stderr)")
        let newSecret = try #require(rotated.stdout.split(separator: "\n").last.map(String.init))
        #expect(newSecret.count == 64 && newSecret.allSatisfy { ("a"..."p").contains($0) })
        #expect(try chain.sync("R1").exitCode == 0, "the previous secret works within the overlap")
        try newSecret.write(toFile: folder.file("R1.secret"), atomically: true, encoding: .utf8)
        // Readable by others: refused (whoever reads the secret can write the store's ledger at head office).
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: folder.file("R1.secret"))
        let exposed = try chain.sync("R1")
        #expect(exposed.exitCode != 0 && exposed.stderr.contains("is readable by others"), "\(exposed.stderr)")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: folder.file("R1.secret"))
        #expect(try chain.sync("R1").exitCode == 0, "and so does the new one")

        // Overlap 0: the secret just given out is the only one; the previous is refused at once.
        let leaked = try chain.hq(["stores", "rotate-secret", "R1", "--overlap-hours", "0", "--json"])
        let newest = try #require(leaked.json["secret"] as? String)
        let refused = try chain.sync("R1")
        #expect(refused.exitCode != 0 && refused.stderr.contains("401"), "\(refused.stderr)")
        try newest.write(toFile: folder.file("R1.secret"), atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: folder.file("R1.secret"))
        #expect(try chain.sync("R1").exitCode == 0)

        #expect(try chain.hq(["stores", "revoke", "R1", "--reason", "till stolen"]).exitCode == 0)
        let revoked = try chain.sync("R1")
        #expect(revoked.exitCode != 0 && revoked.stderr.contains("revoked"), "\(revoked.stderr)")
        #expect(try chain.hq(["cards", "block", "2900000777774", "--reason", "lost", "--by", "ana"]).exitCode == 0)
        #expect(try chain.hq(["epoch", "rotate", "--by", "ana"]).exitCode == 0)
        let audit = try chain.hq(["report", "audit"]).stdout
        #expect(audit.contains("cards block") && audit.contains("epoch rotate") && audit.contains("ana"), "\(audit)")
        #expect(
            audit.contains("stores rotate-secret") && audit.contains("stores revoke") && audit.contains("till stolen"))
        #expect(try chain.hq(["stores", "rotate-secret", "NOPE"]).exitCode == 1)
    }
}
