import TestSupport
import Foundation
import Testing

@testable import LedgerStore
import LoyaltyCore

/// The CLI as a POS script and a store manager use it: outputs, exit codes, and bad input that
/// gets a clear message and changes nothing.
@Suite struct CommandLineTests {
    let folder = TemporaryFolder()
    var db: String { folder.file("store.db") }
    let card = "2900000777774"

    func agent(_ arguments: String...) throws -> AgentProcess.Outcome {
        try AgentProcess.run(arguments + ["--db", db, "--json"])
    }

    func entryCount() throws -> Int64 {
        try #require(try agent("status").json["entries"] as? Int64 ?? (agent("status").json["entries"] as? Int).map(Int64.init))
    }

    @Test func aCashierSessionFromEnrolToRefund() throws {
        #expect(try agent("enroll", card, "--name", "Ana Li", "--birthday", "1990-04-23").exitCode == 0)
        let award = try agent("award", card, "--amount", "12.50", "--receipt", "R-1")
        #expect(award.exitCode == 0)
        #expect(award.json["points"] as? Int == 12)
        #expect(award.json["balance"] as? Int == 12)

        let retry = try agent("award", card, "--amount", "12.50", "--receipt", "R-1")
        #expect(retry.exitCode == 0 && retry.json["replayed"] as? Bool == true && retry.json["points"] as? Int == 12)
        #expect(try entryCount() == 2, "a retried award wrote something (entries: the enrolment and the sale)")

        let conflict = try agent("award", card, "--amount", "13.00", "--receipt", "R-1")
        #expect(conflict.exitCode == 1 && conflict.json["error"] as? String == "receipt_conflict")

        let redeem = try agent("redeem", card, "--points", "10", "--receipt", "R-2")
        #expect(redeem.exitCode == 0 && redeem.json["balance"] as? Int == 2 && redeem.json["discount"] as? String == "0.10")
        let over = try agent("redeem", card, "--points", "3", "--receipt", "R-3")
        #expect(over.exitCode == 1 && over.json["error"] as? String == "over_balance")
        #expect(over.stderr.contains("at most 2"))

        #expect(try agent("award", card, "--amount", "100", "--receipt", "R-4").json["balance"] as? Int == 102)
        let partial = try agent("refund", "--receipt", "R-4", "--amount", "25.00", "--return-receipt", "RET-1")
        #expect(partial.exitCode == 0 && partial.json["reversed_points"] as? Int == -25)
        let partialRetry = try agent("refund", "--receipt", "R-4", "--amount", "25.00", "--return-receipt", "RET-1")
        #expect(partialRetry.json["replayed"] as? Bool == true && partialRetry.json["balance"] as? Int == 77)
        let tooMuch = try agent("refund", "--receipt", "R-4", "--amount", "80.00")
        #expect(tooMuch.exitCode == 1 && tooMuch.json["error"] as? String == "over_refund")
        #expect(try agent("refund", "--receipt", "R-4").json["reversed_points"] as? Int == -75)
        let restored = try agent("refund", "--receipt", "R-2")
        #expect(restored.json["restored_points"] as? Int == 10 && restored.json["balance"] as? Int == 12)

        let member = try agent("member", card)
        #expect(member.json["balance"] as? Int == 12)
        #expect(member.json["tier"] as? String == "base")
        #expect((member.json["recent_entries"] as? [Any])?.count == 7)

        let status = try agent("status")
        #expect(status.json["members"] as? Int == 1)
        #expect(status.json["entries_today"] as? Int == 7)
        #expect(status.json["points_issued_today"] as? Int == 112)
        #expect(status.json["points_redeemed_today"] as? Int == 10)
        #expect(status.json["unsynced_entries"] as? Int == 7)
        #expect(status.json["health"] as? String == "ok")
        #expect(try agent("verify").exitCode == 0)

        // Human output names the numbers a cashier reads aloud.
        let human = try AgentProcess.run(["award", card, "--amount", "5", "--receipt", "R-5", "--db", db])
        #expect(human.stdout.contains("Awarded 5 points") && human.stdout.contains("Balance: 17 points"))
    }

    /// Each bad input: the right exit code, a message on stderr, one JSON error object, nothing written.
    @Test func badInputIsRefusedClearlyAndChangesNothing() throws {
        #expect(try agent("enroll", card).exitCode == 0)
        #expect(try agent("award", card, "--amount", "10", "--receipt", "R-1").exitCode == 0)
        let cases: [([String], Int32, String)] = [
            (["award", card, "--amount", "12,50", "--receipt", "R-9"], 2, "bad_amount"),
            (["award", card, "--amount=-3", "--receipt", "R-9"], 2, "negative_amount"),
            (["award", card, "--amount", "1.999", "--receipt", "R-9"], 2, "bad_amount"),
            (["award", card, "--amount", "0", "--receipt", "R-9"], 2, "zero_amount"),
            (["award", card, "--amount", "1e9", "--receipt", "R-9"], 2, "bad_amount"),
            (["award", card, "--amount", "99999999999999999", "--receipt", "R-9"], 2, "bad_amount"),
            (["award", "29000007777", "--amount", "1", "--receipt", "R-9"], 1, "unknown_card"),
            (["award", "12!", "--amount", "1", "--receipt", "R-9"], 2, "bad_card"),
            (["award", "4111 1111 1111 1111", "--amount", "1", "--receipt", "R-9"], 2, "payment_card"),
            (["award", card, "--amount", "1", "--receipt", "has space"], 2, "bad_receipt"),
            (["award", card, "--amount", "1", "--receipt", ""], 2, "bad_receipt"),
            (["redeem", card, "--points", "11", "--receipt", "R-9"], 1, "over_balance"),
            (["redeem", card, "--points=-1", "--receipt", "R-9"], 2, "bad_points"),
            (["redeem", card, "--points", "-1", "--receipt", "R-9"], 2, "usage"),
            (["redeem", card, "--points", "ten", "--receipt", "R-9"], 2, "bad_points"),
            (["refund", "--receipt", "NOPE"], 1, "unknown_receipt"),
            (["refund", "--receipt", "R-1", "--amount", "10.01"], 1, "over_refund"),
            // The card's member was enrolled without a name: another enrolment of it is refused (the same
            // one again is a retry, answered as the first time).
            (["enroll", card, "--name", "Someone Else"], 1, "card_taken"),
            (["enroll", "2900000777781", "--birthday", "1990-02-30"], 2, "bad_date"),
            (["member", "29000007777"], 1, "unknown_card"),
            (["status", "--store-id", "local"], 2, "bad_store_id"),
        ]
        for (arguments, exitCode, error) in cases {
            let outcome = try AgentProcess.run(arguments + ["--db", db, "--json"])
            #expect(outcome.exitCode == exitCode, "\(arguments): exit \(outcome.exitCode), \(outcome.stderr)")
            #expect(outcome.json["error"] as? String == error, "\(arguments): \(outcome.stdout)")
            #expect(outcome.stderr.hasPrefix("error: "), "\(arguments): stderr \(outcome.stderr)")
            #expect(!outcome.stdout.contains("4111") && !outcome.stderr.contains("4111"), "a payment card number was echoed")
        }
        // Usage errors (unknown option, missing value) are bad input too.
        #expect(try agent("award", card, "--receipt", "R-9").exitCode == 2)
        #expect(try agent("award", card, "--amount", "1", "--receipt", "R-9", "--bogus").exitCode == 2)

        #expect(try entryCount() == 2)
        #expect(try agent("member", card).json["balance"] as? Int == 10)
        #expect(try agent("verify").exitCode == 0)
    }

    /// A full disk (the process's file-size limit, RLIMIT_FSIZE) during an award: exit 3, a message
    /// that says what to do, nothing half-written, and the same award succeeds once space is back.
    @Test func aFullDiskFailsTheAwardCleanly() throws {
        #expect(try agent("enroll", card).exitCode == 0)
        for index in 0..<20 {
            #expect(try agent("award", card, "--amount", "1", "--receipt", "R-\(index)").exitCode == 0)
        }
        let full = try AgentProcess.run(
            ["award", card, "--amount", "7", "--receipt", "R-full", "--db", db, "--json"],
            launcher: ["prlimit", "--fsize=4096", "--"])
        #expect(full.exitCode == 3, "\(full.stdout) \(full.stderr)")
        #expect(["disk_full", "io_error"].contains(full.json["error"] as? String ?? ""), "\(full.stdout)")
        #expect(full.stderr.contains("free space") || full.stderr.contains("check the disk"))

        #expect(try agent("verify").exitCode == 0)
        #expect(try agent("member", card).json["balance"] as? Int == 20)
        let retry = try agent("award", card, "--amount", "7", "--receipt", "R-full")
        #expect(retry.exitCode == 0 && retry.json["replayed"] as? Bool == false && retry.json["balance"] as? Int == 27)
    }

    /// A ledger the agent's user may not write: exit 3 with advice, the file unchanged.
    @Test func aReadOnlyLedgerFailsCleanly() throws {
        #expect(try agent("enroll", card).exitCode == 0)
        #expect(try agent("award", card, "--amount", "3", "--receipt", "R-1").exitCode == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        let launcher: [String]
        if getuid() == 0 {
            // root ignores file modes: run as nobody, for whom the 0600 root-owned ledger is off limits.
            chmod(folder.path, 0o755)
            launcher = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
        } else {
            chmod(db, 0o400)
            chmod(db + "-wal", 0o400)
            launcher = []
        }
        let outcome = try AgentProcess.run(
            ["award", card, "--amount", "5", "--receipt", "R-2", "--db", db, "--json"], launcher: launcher)
        chmod(db, 0o600)
        chmod(db + "-wal", 0o600)
        #expect(outcome.exitCode == 3, "\(outcome.stdout) \(outcome.stderr)")
        #expect(outcome.stderr.contains("error: ledger"), "\(outcome.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
        #expect(try agent("member", card).json["balance"] as? Int == 3)
        #expect(try agent("verify").exitCode == 0)
    }

    @Test func aFileThatIsNotALedgerIsAStorageFailure() throws {
        try Data("this is not sqlite, it is a shopping list".utf8).write(to: URL(fileURLWithPath: db))
        let outcome = try agent("status")
        #expect(outcome.exitCode == 3)
        #expect(outcome.json["error"] as? String == "corrupt")
    }
}
