import TestSupport
import Foundation
import GRDB
import Testing

@testable import LedgerStore
@testable import LoyaltyCore

@Suite struct LedgerStorageTests {
    @Test func entriesCannotBeEditedOrDeleted() throws {
        let folder = TemporaryFolder()
        let ledger = try LedgerDatabase(path: folder.file("ledger.db"))
        let card = try CardNumber("2900000777774")
        _ = try ledger.enroll(card: card, name: nil, birthday: nil)
        _ = try ledger.award(card: card, amount: Money(minorUnits: 5000, currency: .euro), receipt: ReceiptReference("R1"))
        #expect(throws: DatabaseError.self) {
            try ledger.queue.write { try $0.execute(sql: "UPDATE entries SET points = 9999") }
        }
        #expect(throws: DatabaseError.self) {
            try ledger.queue.write { try $0.execute(sql: "DELETE FROM entries") }
        }
        #expect(try ledger.member(card: card).balance == 50)
        #expect(try ledger.verify().ok)
    }

    @Test func verifyCatchesABalanceThatDriftedFromItsEntries() throws {
        let folder = TemporaryFolder()
        let ledger = try LedgerDatabase(path: folder.file("ledger.db"))
        let card = try CardNumber("2900000777774")
        _ = try ledger.enroll(card: card, name: nil, birthday: nil)
        _ = try ledger.award(card: card, amount: Money(minorUnits: 5000, currency: .euro), receipt: ReceiptReference("R1"))
        try ledger.queue.write { try $0.execute(sql: "UPDATE members SET balance = balance + 1") }
        let report = try ledger.verify()
        #expect(!report.ok)
        #expect(report.checks.first { $0.name == "balances" }?.ok == false)
    }

    @Test func databaseFilesAreNotWorldReadable() throws {
        let folder = TemporaryFolder()
        let path = folder.file("sub/dir/ledger.db")
        let ledger = try LedgerDatabase(path: path)
        let card = try CardNumber("2900000777774")
        _ = try ledger.enroll(card: card, name: nil, birthday: nil)
        for file in [path, path + "-wal"] {
            let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as! Int
            #expect(mode & 0o077 == 0, "\(file) has mode \(String(mode, radix: 8))")
        }
        let folderMode = try FileManager.default.attributesOfItem(atPath: folder.file("sub/dir"))[.posixPermissions] as! Int
        #expect(folderMode & 0o077 == 0)
    }

    @Test func walAndFullSynchronousAreInForce() throws {
        let folder = TemporaryFolder()
        let ledger = try LedgerDatabase(path: folder.file("ledger.db"))
        let (journal, synchronous) = try ledger.queue.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        #expect(journal == "wal")
        #expect(synchronous == 2)  // FULL
    }

    /// Two writers on one file (the daemon and a CLI call): no lost update, no duplicate sequence.
    @Test func concurrentWritersOnOneFileKeepTheLedgerConsistent() async throws {
        let folder = TemporaryFolder()
        let path = folder.file("ledger.db")
        let setup = try LedgerDatabase(path: path)
        let card = try CardNumber("2900000777774")
        _ = try setup.enroll(card: card, name: nil, birthday: nil)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<2 {
                group.addTask {
                    let ledger = try LedgerDatabase(path: path)
                    for index in 0..<100 {
                        // Both writers also retry each other's receipts: each must still earn once.
                        _ = try ledger.award(
                            card: card, amount: Money(minorUnits: 100, currency: .euro),
                            receipt: ReceiptReference("R\((index + writer * 50) % 150)"))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try setup.member(card: card).balance == 150)
        #expect(try setup.verify().ok)
    }
}

@Suite struct CardLookupTests {
    @Test func lookupFindsTheMemberAndReportsBlockedAndUnknownCards() throws {
        let folder = TemporaryFolder()
        let ledger = try LedgerDatabase(path: folder.file("ledger.db"))
        let card = try CardNumber("2900000777774")
        let other = try CardNumber("2900000123458")
        _ = try ledger.enroll(card: card, name: nil, birthday: nil)
        _ = try ledger.award(card: card, amount: Money(minorUnits: 4_200, currency: .euro), receipt: ReceiptReference("R1"))
        let found = try #require(try ledger.lookup(card: card))
        #expect(found.balance == 42 && found.tier == "base" && found.cardStatus == "active")
        #expect(try ledger.lookup(card: other) == nil)
        try ledger.queue.write { try $0.execute(sql: "UPDATE cards SET status = 'blocked'") }
        #expect(try ledger.lookup(card: card)?.cardStatus == "blocked")
        #expect(throws: LoyaltyError.self) {
            try ledger.award(card: card, amount: Money(minorUnits: 100, currency: .euro), receipt: ReceiptReference("R2"))
        }
    }
}
