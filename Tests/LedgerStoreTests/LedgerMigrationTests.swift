import Foundation
import GRDB
import LoyaltyCore
import TestSupport
import Testing

@testable import LedgerStore

/// A ledger written by an earlier version opens, is migrated in place (the entries table is rebuilt
/// for enrolment entries) and keeps every entry, balance, trigger and invariant.
@Suite struct LedgerMigrationTests {
    /// A ledger a newer agent upgraded is refused by this one, with what to do, and stays as it was (a downgrade
    /// would write entries without what the newer version keeps beside them).
    @Test func aLedgerANewerAgentUpgradedIsRefusedAndKept() throws {
        let folder = TemporaryFolder()
        let path = folder.file("ledger.db")
        let card = try CardNumber("2900000777774")
        do {
            let ledger = try LedgerDatabase(path: path)
            _ = try ledger.enroll(card: card, name: "Ana", birthday: nil)
            _ = try ledger.award(
                card: card, amount: try Money(parsing: "12.00", currency: .euro), receipt: ReceiptReference("R1"))
        }
        let queue = try DatabaseQueue(path: path)
        try queue.write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v999-from-the-future')") }
        let refusal = #expect(throws: StorageError.self) { _ = try LedgerDatabase(path: path) }
        #expect(refusal?.code == "newer_ledger")
        #expect(refusal?.message.contains("newer loyalty-agent") == true, "\(String(describing: refusal))")
        #expect(try queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM entries") } == 2)
    }

    @Test func aLedgerFromBeforeEnrolmentEntriesMigratesWithEverythingKept() throws {
        let folder = TemporaryFolder()
        let path = folder.file("old.db")
        let card = try CardNumber("2900000777774")
        do {
            // Build the ledger as the previous version left it: migrations up to v4, a member, sales.
            let queue = try DatabaseQueue(path: path)
            try queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = WAL") }
            try LedgerSchema.migrator.migrate(queue, upTo: "v4-provisional-members")
            try queue.write { db in
                try db.execute(sql: "INSERT INTO store_meta (key, value) VALUES ('store_id', 'local'), ('hq_acknowledged_seq', '2')")
                let document = String(decoding: try JSONEncoder().encode(LoyaltyProgram.standard()), as: UTF8.self)
                try db.execute(sql: "INSERT INTO program_versions (version, document, installed_at) VALUES (1, ?, 0)", arguments: [document])
                try db.execute(sql: "INSERT INTO members (name, birthday, enrolled_at, tier) VALUES ('Ana', NULL, 0, 'base')")
                try db.execute(sql: "INSERT INTO cards (number, member_id, added_at) VALUES (?, 1, 0)", arguments: [card.value])
                for (seq, points) in [(1, 12), (2, 30), (3, 5)] {
                    try db.execute(
                        sql: """
                            INSERT INTO entries (id, store_id, member_id, card, kind, points, amount_minor, balance_after, receipt,
                                                 idempotency_key, rule_version, created_at)
                            VALUES (?, 'local', 1, ?, 'earn', ?, ?, (SELECT balance FROM members WHERE id = 1) + ?, ?, ?, 1, 0)
                            """,
                        arguments: ["id-\(seq)", card.value, points, points * 100, points, "R\(seq)", "earn:R\(seq)"])
                }
            }
        }
        let ledger = try LedgerDatabase(path: path)
        #expect(ledger.assignedStoreId == nil, "'local' from an earlier version means unassigned")
        let report = try ledger.verify()
        #expect(report.ok, "\(report.checks.filter { !$0.ok })")
        #expect(report.entries == 3)
        #expect(try ledger.member(card: card).balance == 47)
        #expect(try ledger.syncPosition() == SyncPosition(acknowledgedSeq: 2, lastSeq: 3, cursor: 0))
        // The rebuilt table still refuses edits and deletions, and takes enrolment entries.
        #expect(throws: (any Error).self) { try ledger.queue.write { try $0.execute(sql: "UPDATE entries SET points = 99") } }
        #expect(throws: (any Error).self) { try ledger.queue.write { try $0.execute(sql: "DELETE FROM entries") } }
        _ = try ledger.enroll(card: CardNumber("2900000123458"), name: "Bo", birthday: nil)
        let outbox = try ledger.outbox(limit: 10)
        #expect(outbox.map(\.seq) == [3, 4] && outbox.last?.kind == "enroll" && outbox.last?.memberName == "Bo")
        #expect(try ledger.verify().ok)
    }
}
