import Foundation
import GRDB
import LoyaltyCore
import TestSupport
import Testing

@testable import LedgerStore

/// Invariant 3 against power loss, not only `kill -9` (whose page cache survives): an LD_PRELOAD
/// shim keeps, at every fsync/fdatasync, the image a disk would hold; after killing the process the
/// test puts those images back, so every write that no sync made durable is lost. Every acknowledged
/// award must survive and the ledger must verify — and with `synchronous=OFF` the same test must see
/// acknowledged awards vanish, which shows it can fail.
@Suite(.serialized) struct PowerLossTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Builds the shim once per test into `folder`.
    static func buildShim(in folder: TemporaryFolder) throws -> String {
        let library = folder.file("power-loss-shim.so")
        let source = packageRoot.appendingPathComponent("Tests/PowerLoss/power-loss-shim.c").path
        let built = try AgentProcess.run(["-shared", "-fPIC", "-O2", "-o", library, source, "-ldl"], executable: "/usr/bin/cc")
        try #require(built.exitCode == 0, "the power-loss shim did not build: \(built.stderr)")
        return library
    }

    /// What the disk holds after the power failed: each file's last synced image, or nothing.
    static func losePower(in folder: String) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
        for name in names where !name.hasSuffix(".durable") && !name.hasSuffix(".durable-tmp") && !name.hasSuffix(".so") {
            let path = folder + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            try FileManager.default.removeItem(atPath: path)
            if names.contains(name + ".durable") {
                try FileManager.default.copyItem(atPath: path + ".durable", toPath: path)
            }
        }
        for name in names where name.hasSuffix(".durable-tmp") { try? FileManager.default.removeItem(atPath: folder + "/" + name) }
    }

    @Test(arguments: ["full", "off"])
    func everyAcknowledgedAwardSurvivesPowerLoss(synchronous: String) throws {
        let folder = TemporaryFolder()
        let shim = try Self.buildShim(in: folder)
        let disk = folder.file("disk")
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        let db = disk + "/ledger.db"
        let card = "2900000777774"
        var random = SeededRandom(seed: TestSeed.make("power loss \(synchronous)"))
        var acknowledged = Set<Int>()
        var next = 1
        let cuts = 30
        for _ in 0..<cuts {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: AgentProcess.binary)
            let from = max(1, next - Int.random(in: 0...3, using: &random))
            process.arguments = [
                "award-loop", card, "--prefix", "sale", "--from", String(from), "--db", db, "--synchronous", synchronous,
            ]
            process.environment = ProcessInfo.processInfo.environment.merging(["LD_PRELOAD": shim, "POWER_LOSS_DIR": disk]) { $1 }
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            var ready = pollfd(fd: pipe.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
            _ = poll(&ready, 1, 10_000)
            usleep(UInt32.random(in: 0...60_000, using: &random))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            var lines = output.split(separator: "\n", omittingEmptySubsequences: false)
            lines.removeLast()
            for line in lines {
                let index = try #require(Int(line.dropFirst("sale-".count)), "unexpected output \(line)")
                acknowledged.insert(index)
                next = max(next, index + 1)
            }
            try Self.losePower(in: disk)
        }
        #expect(acknowledged.count > 50, "the test should acknowledge many awards (got \(acknowledged.count))")

        let verify = try AgentProcess.run(["verify", "--db", db, "--json"])
        #expect(verify.exitCode == 0, "\(verify.stdout)")
        let ledger = try LedgerDatabase(path: db)
        #expect(try ledger.synchronousMode() == 2, "the agent's ledger runs with synchronous=FULL")
        let stored = try ledger.queue.read { db in
            Set(try String.fetchAll(db, sql: "SELECT receipt FROM entries WHERE kind = 'earn'"))
        }
        let lost = acknowledged.filter { !stored.contains("sale-\($0)") }
        if synchronous == "full" {
            #expect(lost.isEmpty, "acknowledged awards lost at power failure: \(lost.sorted().prefix(10))")
        } else {
            // The test's power: without syncs, acknowledged awards do vanish.
            #expect(!lost.isEmpty, "synchronous=OFF lost nothing: the simulation would not catch a missing fsync")
        }
    }

    /// Head office's SQLite writer: every batch it acknowledged survives a power failure.
    @Test func headOfficeAcknowledgementsSurvivePowerLoss() throws {
        let folder = TemporaryFolder()
        let shim = try Self.buildShim(in: folder)
        let disk = folder.file("hq")
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        let hqDb = disk + "/hq.db"
        let environment = ["LD_PRELOAD": shim, "POWER_LOSS_DIR": disk]
        var random = SeededRandom(seed: TestSeed.make("head office power loss"))
        let added = try AgentProcess.run(
            ["stores", "add", "S1", "--db", hqDb], environment: environment, executable: SyncChaosTests.hqBinary)
        try #require(added.exitCode == 0, "\(added.stderr)")
        let secret = try #require(added.stdout.split(separator: "\n").last.map(String.init))
        let secretFile = folder.file("S1.secret")
        FileManager.default.createFile(atPath: secretFile, contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600])
        let storeDb = folder.file("store.db")
        let card = "2900000777774"
        #expect(try AgentProcess.run(["enroll", card, "--db", storeDb, "--store-id", "S1"]).exitCode == 0)

        var checked = 0
        for round in 0..<12 {
            let awarded = try AgentProcess.run([
                "award-loop", card, "--prefix", "r\(round)", "--count", String(Int.random(in: 20...120, using: &random)),
                "--db", storeDb,
            ])
            #expect(awarded.exitCode == 0)
            let port = SyncChaosTests.freePort()
            let hq = try SyncChaosTests.Background(
                SyncChaosTests.hqBinary, ["serve", "--port", String(port), "--db", hqDb], output: folder.file("hq-\(round).out"),
                environment: environment)
            try #require(hq.waitFor("listening"), "head office did not start")
            let sync = try AgentProcess.run([
                "sync", "--db", storeDb, "--hq-url", "http://127.0.0.1:\(port)", "--store-secret-file", secretFile, "--json",
            ])
            hq.kill9()
            try Self.losePower(in: disk)
            let agentMark = try LedgerDatabase(path: storeDb).syncPosition().acknowledgedSeq
            // Under the shim too: its checkpoint writes to the same simulated disk.
            let stores = try AgentProcess.run(
                ["stores", "list", "--db", hqDb, "--json"], environment: environment, executable: SyncChaosTests.hqBinary)
            let rows = (try JSONSerialization.jsonObject(with: Data(stores.stdout.utf8)) as? [String: Any])?["stores"] as? [[String: Any]]
            let headOfficeMark = (rows?.first?["acknowledged_seq"] as? Int).map(Int64.init) ?? 0
            #expect(headOfficeMark >= agentMark, "round \(round): head office acknowledged \(agentMark) but kept \(headOfficeMark)")
            if sync.exitCode == 0 { checked += 1 } else { print("head office power loss, round \(round): sync failed: \(sync.stderr)") }
        }
        #expect(checked >= 6, "most syncs should complete before the power fails")
        let totals = try AgentProcess.run(
            ["report", "totals", "--json", "--db", hqDb], environment: environment, executable: SyncChaosTests.hqBinary)
        let rows = (try JSONSerialization.jsonObject(with: Data(totals.stdout.utf8)) as? [String: Any])?["totals"] as? [[String: Any]]
        let entries = (rows?.first?["entries"] as? Int).map(Int64.init) ?? 0
        #expect(entries >= (try LedgerDatabase(path: storeDb).syncPosition().acknowledgedSeq), "head office lost entries")
    }
}
