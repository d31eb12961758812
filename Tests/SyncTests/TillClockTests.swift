import Foundation
import HeadOffice
import LedgerStore
import LoyaltyCore
import SyncClient
import SyncProtocol
import TestSupport
import Testing

/// A till's wall clock can be wrong. Head office keeps what the till stated, but a sale cannot have happened
/// after it arrived: an entry dated ahead of head office's clock counts from its arrival.
@Suite struct TillClockTests {
    func money(_ text: String) -> Money { try! Money(parsing: text, currency: .euro) }

    /// Found by attack: a till whose clock ran a year ahead wrote a sale dated next year; head office counted it
    /// in the member's 12-month figures until two years after the sale, and `tiers review` disagreed with the
    /// tier the member held. A resend of the same entry (with its stated time) is still the same entry.
    @Test(arguments: Driver.allCases)
    func aSaleDatedAheadOfHeadOfficeCountsFromItsArrival(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "s", now: Date())
            try await Harness.withServer(store) { base in
                let till = try AgentSyncTests.Till("A", secret: "s", base: base)
                let card = try CardNumber(GTIN.withCheckDigit("290000091001"))
                let ahead = Date().addingTimeInterval(200 * 86_400)
                _ = try till.ledger.enroll(card: card, name: "Ana", birthday: nil)
                _ = try till.ledger.award(card: card, amount: money("50.00"), receipt: ReceiptReference("A-1"), at: ahead)
                _ = try await till.client.syncOnce()
                let now = Date()
                #expect(try await store.member(card: card.value, now: now)?.rollingSpendMinor == 5_000)
                // Thirteen months after the sale really happened, it no longer counts.
                let later = now.addingTimeInterval(395 * 86_400)
                #expect(try await store.member(card: card.value, now: later)?.rollingSpendMinor == 0)
            }
        }
    }

    /// Found by attack: a till whose clock was 10 minutes off (either way) was refused as `stale` at every sync, its
    /// entries stuck on the till, with the exit of a refusal by the rules. Head office's refusal carries its
    /// clock; the till signs by it, syncs, says its clock is off, and dates its entries by head office's clock.
    @Test(arguments: Driver.allCases, [600.0, -600.0])
    func aTillWhoseClockIsTenMinutesOffStillSyncs(_ driver: Driver, headOfficeAheadSeconds: Double) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "s", now: Date())
            try await Harness.withServer(store, clock: { Date().addingTimeInterval(headOfficeAheadSeconds) }) { base in
                let till = try AgentSyncTests.Till("A", secret: "s", base: base)
                let card = try CardNumber(GTIN.withCheckDigit("290000091009"))
                _ = try till.ledger.enroll(card: card, name: "Ana", birthday: nil)
                _ = try till.ledger.award(card: card, amount: money("50.00"), receipt: ReceiptReference("A-1"))
                let report = try await till.client.syncOnce()
                #expect(report.pushedEntries == 2 && report.backlog == 0)
                let ahead = try #require(report.headOfficeClockAheadSeconds)
                #expect(abs(Double(ahead) - headOfficeAheadSeconds) < 5)
                #expect(try await store.member(card: card.value, now: Date())?.balance == 50)
                // The next sync signs by head office's clock at once, and the till dates its entries by it (found by
                // attack: a till 20 minutes behind dated a sale on the day before, out of reach of the day cap).
                _ = try till.ledger.award(card: card, amount: money("10.00"), receipt: ReceiptReference("A-2"))
                #expect(try await till.client.syncOnce().pushedEntries == 1)
                let history = try await store.pointHistories(cards: [card.value], expiredOnly: false)
                let dated = try #require(history.first?.events.first { $0.key == "A:3" }?.atMilliseconds)
                let headOfficeNow = Date().addingTimeInterval(headOfficeAheadSeconds).timeIntervalSince1970 * 1000
                #expect(abs(Double(dated) - headOfficeNow) < 30_000, "dated \(dated), head office's now \(headOfficeNow)")
                // A later process (the next command) starts from what was learnt.
                let reopened = try LedgerDatabase(path: till.folder.file("A.db"))
                #expect(abs(Double(reopened.headOfficeClockOffsetMilliseconds) - headOfficeAheadSeconds * 1000) < 5_000)
            }
        }
    }

    @Test(arguments: Driver.allCases)
    func anEntryDatedAheadIsTheSameEntryWhenItIsSentAgain(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "s", now: Date())
            let ahead = Int64(Date().addingTimeInterval(30 * 86_400).timeIntervalSince1970 * 1000)
            let batch = PushBatch(entries: [Harness.entry(1, points: 40, at: ahead)], backlog: 0)
            _ = try await store.ingest(storeId: "A", batch: batch, nonce: nil, now: Date())
            let again = try await store.ingest(storeId: "A", batch: batch, nonce: nil, now: Date().addingTimeInterval(60))
            #expect(again.duplicates == 1 && again.acknowledgedSeq == 1)
            #expect(try await store.member(card: "2900000777774", now: Date())?.rollingSpendMinor == 4_000)
        }
    }
}
