import Foundation
import TestSupport
import Testing

@testable import LedgerStore
@testable import LoyaltyCore

/// What a cashier or a POS may type into a sale, refused as bad input (exit 2, HTTP 400), never as a
/// storage failure (exit 3, HTTP 503: "the ledger is down").
@Suite struct SaleInputTests {
    /// Found by attack: `award --amount 0` reached the ledger's CHECK constraint: `storage_failure`, exit 3, and a
    /// 503 naming the database path at the till's API.
    @Test func aSaleOfZeroIsBadInputAndWritesNothing() throws {
        let folder = TemporaryFolder()
        let ledger = try LedgerDatabase(path: folder.file("ledger.db"))
        let card = try CardNumber(GTIN.withCheckDigit("290000077101"))
        _ = try ledger.enroll(card: card, name: nil, birthday: nil)
        let before = try ledger.outbox(after: nil, limit: 100).count
        for amount in [Int64(0), -1, .min] {
            #expect {
                try ledger.award(card: card, amount: Money(minorUnits: amount, currency: .euro), receipt: ReceiptReference("Z0"))
            } throws: { ($0 as? LoyaltyError).map { $0.category == .badInput && $0.code == "zero_amount" } ?? false }
        }
        #expect(try ledger.outbox(after: nil, limit: 100).count == before)
        #expect(try ledger.verify().ok)
    }

    /// Found by attack: a refusal masked the card, then repeated it in full in the command it suggested (`enroll
    /// it with loyalty-agent enroll 2900…`), at the till's terminal and in the POS API's `message`.
    @Test func refusalsNeverRepeatAMemberCardInFull() throws {
        let folder = TemporaryFolder()
        let ledger = try LedgerDatabase(path: folder.file("ledger.db"))
        let (known, unknown) = (try CardNumber(GTIN.withCheckDigit("290000077201")), try CardNumber(GTIN.withCheckDigit("290000077202")))
        _ = try ledger.enroll(card: known, name: nil, birthday: nil)
        var messages: [String] = []
        for attempt in [
            { _ = try ledger.award(card: unknown, amount: Money(minorUnits: 500, currency: .euro), receipt: ReceiptReference("U1")) },
            { _ = try ledger.redeem(card: unknown, points: 10, receipt: ReceiptReference("U2")) },
            { _ = try ledger.member(card: unknown) },
            { _ = try ledger.enroll(card: known, name: "Ana", birthday: nil) },
        ] as [() throws -> Void] {
            do { try attempt() } catch let error as LoyaltyError { messages.append(error.message) }
        }
        #expect(messages.count == 4)
        for message in messages {
            #expect(!message.contains(unknown.value) && !message.contains(known.value), "\(message)")
        }
    }

    /// Found by attack: a member born on 29 February never had "birthday this week" outside leap years.
    @Test func aLeapDayBirthdayIsThisWeekOutsideLeapYears() throws {
        func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }
        #expect(LedgerDatabase.isWithinAWeek(birthday: "2024-02-29", of: at("2027-02-26T12:00:00Z"), timeZone: "UTC"))
        #expect(LedgerDatabase.isWithinAWeek(birthday: "2024-02-29", of: at("2027-02-28T12:00:00Z"), timeZone: "UTC"))
        #expect(!LedgerDatabase.isWithinAWeek(birthday: "2024-02-29", of: at("2027-03-01T12:00:00Z"), timeZone: "UTC"))
        #expect(LedgerDatabase.isWithinAWeek(birthday: "2024-02-29", of: at("2028-02-29T12:00:00Z"), timeZone: "UTC"))
        #expect(!LedgerDatabase.isWithinAWeek(birthday: "2024-02-29", of: at("2028-02-20T12:00:00Z"), timeZone: "UTC"))
    }
}
