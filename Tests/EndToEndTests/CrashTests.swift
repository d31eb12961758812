import TestSupport
import Foundation
import GRDB
import Testing

@testable import LedgerStore
import LoyaltyCore

/// Invariant 3: an acknowledged award survives `kill -9`. A child awards in a loop and prints each
/// receipt only after its commit returned; we SIGKILL it at random moments, restart it (it retries
/// the last few receipts, as a POS would), and at the end every printed receipt must be in the
/// ledger exactly once and the ledger must verify.
@Suite struct CrashTests {
    static var kills: Int { Int(ProcessInfo.processInfo.environment["LOYALTY_CRASH_KILLS"] ?? "") ?? 200 }

    @Test func everyAcknowledgedAwardSurvivesSIGKILL() throws {
        let folder = TemporaryFolder()
        let db = folder.file("crash.db")
        let card = "2900000777774"
        var random = SeededRandom(seed: TestSeed.make("kill -9"))
        var acknowledged = Set<Int>()
        var next = 1
        var killedMidLoop = 0

        for _ in 0..<Self.kills {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: AgentProcess.binary)
            // Start a little before the last acknowledged receipt: retries must not earn twice.
            let from = max(1, next - Int.random(in: 0...3, using: &random))
            process.arguments = ["award-loop", card, "--prefix", "sale", "--from", String(from), "--db", db]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            if Int.random(in: 0..<5, using: &random) == 0 {
                // Sometimes early: during start-up, opening or migrating the ledger.
                usleep(UInt32.random(in: 0...50_000, using: &random))
            } else {
                // Mostly mid-loop: once awards are flowing (however slow the machine is), at a random moment.
                var ready = pollfd(fd: pipe.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
                _ = poll(&ready, 1, 10_000)
                usleep(UInt32.random(in: 0...40_000, using: &random))
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal || process.terminationStatus != 0)
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            // Only complete lines were acknowledged; a partial last line was cut by the kill.
            var lines = output.split(separator: "\n", omittingEmptySubsequences: false)
            lines.removeLast()
            if !lines.isEmpty { killedMidLoop += 1 }
            for line in lines {
                let index = try #require(Int(line.dropFirst("sale-".count)), "unexpected output \(line)")
                acknowledged.insert(index)
                next = max(next, index + 1)
            }
        }
        #expect(killedMidLoop > Self.kills / 2, "most kills should land while awarding")

        let verify = try AgentProcess.run(["verify", "--db", db, "--json"])
        #expect(verify.exitCode == 0, "\(verify.stdout)")

        let ledger = try LedgerDatabase(path: db)
        let stored = try ledger.queue.read { db in
            try Row.fetchAll(db, sql: "SELECT receipt, COUNT(*) AS n FROM entries WHERE kind = 'earn' GROUP BY receipt")
        }
        var counts: [String: Int] = [:]
        for row in stored { counts[row["receipt"]] = row["n"] }
        let lost = acknowledged.filter { counts["sale-\($0)"] != 1 }
        #expect(lost.isEmpty, "acknowledged receipts missing or doubled: \(lost.sorted().prefix(10))")
        #expect(counts.values.allSatisfy { $0 == 1 })
        // Every stored sale earned 1 point: the balance is exactly the number of distinct sales.
        #expect(try ledger.member(card: CardNumber(card)).balance == Int64(counts.count))
        #expect(acknowledged.count > 100, "the test should acknowledge many awards (got \(acknowledged.count))")
    }
}
