import Foundation
import TestSupport
import Testing

@testable import LedgerStore
@testable import LoyaltyCore

/// The store hub's ledger and a till's view of the store's other tills (issue 20).
@Suite struct StoreHubLedgerTests {
    func record(_ ledger: String, _ seq: Int64, points: Int64 = 10, card: String = "2900000777774") -> HubEntryRecord {
        HubEntryRecord(
            ledger: ledger, seq: seq, card: card, kind: points < 0 ? "redeem" : "earn", points: points, amountMinor: 0,
            createdAtMilliseconds: Int64(Date().timeIntervalSince1970 * 1000) + seq, entry: "{\"seq\":\(seq)}")
    }

    /// Pushes cut, retried, repeated and out of order: the hub holds each till's entries once and in
    /// sequence from 1, and its answer says exactly how far.
    @Test func theHubHoldsEachTillsEntriesOnceAndContiguousWhateverThePushes() throws {
        let seed = TestSeed.make("store hub pushes")
        var random = SeededRandom(seed: seed)
        let folder = TemporaryFolder()
        let hub = try LedgerDatabase(path: folder.file("hub.db"), creating: .init(storeId: "0042.1"))
        let tills = ["0042.2", "0042.3", "0042.4"]
        var written: [String: Int64] = Dictionary(uniqueKeysWithValues: tills.map { ($0, 0) })
        var held: [String: Int64] = Dictionary(uniqueKeysWithValues: tills.map { ($0, 0) })
        for _ in 0..<300 {
            let till = tills[Int(random.next() % 3)]
            written[till, default: 0] += Int64(random.next() % 3)
            let last = written[till] ?? 0
            guard last > 0 else { continue }
            // Any window of what the till has written: a retry of old entries, a gap, or the next ones.
            let from = 1 + Int64(random.next() % UInt64(last))
            let to = min(last, from + Int64(random.next() % 5))
            let receipt = try hub.hubReceive(
                ledger: till, ledgerId: "ledger-\(till)", entries: (from...to).map { record(till, $0) }, report: nil,
                headOfficeAcknowledged: 0)
            let before = held[till] ?? 0
            let expected = from <= before + 1 ? max(before, to) : before
            #expect(receipt.hubAcknowledged == expected, "seed \(seed): \(till) \(from)...\(to) after \(before)")
            #expect(
                (receipt.expectedSeq != nil) == (from > before + 1),
                "seed \(seed): a gap is answered with where to resume")
            held[till] = receipt.hubAcknowledged
        }
        for till in tills {
            let page = try hub.hubEntries(notOf: "0042.9", after: 0, limit: 10_000).entries.filter { $0.ledger == till }
            #expect(page.map(\.entry) == (0..<(held[till] ?? 0)).map { "{\"seq\":\($0 + 1)}" }, "seed \(seed): \(till)")
        }
        // A till never gets its own entries back.
        #expect(
            try hub.hubEntries(notOf: "0042.2", after: 0, limit: 10_000).entries.allSatisfy { $0.ledger != "0042.2" })
    }

    /// Found by attack: a till re-initialised, or a second box given the same number, made the hub drop the
    /// first ledger's entries (lost while head office was away; balances disagreeing between tills). The hub
    /// refuses a second ledger file under a till's name, as head office does, and keeps the first.
    @Test func aSecondLedgerFileUnderATillsNameIsRefusedAndTheFirstKept() throws {
        let folder = TemporaryFolder()
        let hub = try LedgerDatabase(path: folder.file("hub.db"), creating: .init(storeId: "0042.1"))
        _ = try hub.hubReceive(
            ledger: "0042.2", ledgerId: "first", entries: (1...3).map { record("0042.2", $0) }, report: nil,
            headOfficeAcknowledged: 0)
        #expect {
            _ = try hub.hubReceive(
                ledger: "0042.2", ledgerId: "second", entries: [record("0042.2", 1, points: 99)], report: nil,
                headOfficeAcknowledged: 0)
        } throws: { ($0 as? LoyaltyError)?.code == "ledger_conflict" }
        let held = try hub.hubEntries(notOf: "0042.1", after: 0, limit: 100).entries
        #expect(held.map(\.entry) == (1...3).map { "{\"seq\":\($0)}" })
    }

    /// Found by attack: a till head office revoked still wrote through the hub and the other tills counted its
    /// points for good (head office never holds them). A till withdrawn at the hub gives nothing more, its
    /// entries leave the pages, and a till told so stops counting them.
    @Test func aTillHeadOfficeRefusesIsWithdrawnEverywhere() throws {
        let folder = TemporaryFolder()
        let hub = try LedgerDatabase(path: folder.file("hub.db"), creating: .init(storeId: "0042.1"))
        let till = try LedgerDatabase(path: folder.file("till.db"), creating: .init(storeId: "0042.2"))
        let card = try CardNumber("2900000777774")
        _ = try till.enroll(card: card, name: nil, birthday: nil)
        _ = try hub.hubReceive(
            ledger: "0042.3", ledgerId: "t3", entries: [record("0042.3", 1, points: 5_000)], report: nil,
            headOfficeAcknowledged: 0)
        try till.applyHubUpdates(
            entries: [record("0042.3", 1, points: 5_000)], cursor: 1, hubAcknowledged: nil, storeTills: nil)
        #expect(try till.lookup(card: card)?.balance == 5_000)
        try hub.hubWithdraw(ledger: "0042.3", reason: "store_revoked")
        #expect(try hub.hubEntries(notOf: "0042.2", after: 0, limit: 100).entries.isEmpty)
        #expect {
            _ = try hub.hubReceive(
                ledger: "0042.3", ledgerId: "t3", entries: [record("0042.3", 2)], report: nil, headOfficeAcknowledged: 0
            )
        } throws: { ($0 as? LoyaltyError)?.code == "till_refused" }
        try till.applyHubUpdates(entries: [], cursor: 1, hubAcknowledged: nil, storeTills: nil, withdrawn: ["0042.3"])
        #expect(try till.lookup(card: card)?.balance == 0)
    }

    /// The hub's file is bounded: entries head office holds go after a week; those it does not hold stay.
    @Test func theHubKeepsAWeekOfWhatHeadOfficeHolds() throws {
        let folder = TemporaryFolder()
        let hub = try LedgerDatabase(path: folder.file("hub.db"), creating: .init(storeId: "0042.1"))
        let now = Date()
        _ = try hub.hubReceive(
            ledger: "0042.2", ledgerId: "t2", entries: (1...3).map { record("0042.2", $0) }, report: nil,
            headOfficeAcknowledged: 0, at: now.addingTimeInterval(-8 * 86_400))
        _ = try hub.hubReceive(
            ledger: "0042.2", ledgerId: "t2", entries: [record("0042.2", 4)], report: nil, headOfficeAcknowledged: 0,
            at: now)
        try hub.hubRecordHeadOfficeMark(ledger: "0042.2", acknowledged: 2, fromHeadOffice: true, now: now)
        try hub.hubRecordHeadOfficeMark(ledger: "0042.2", acknowledged: 4, fromHeadOffice: true, now: now)
        let held = try hub.hubEntries(notOf: "0042.1", after: 0, limit: 100).entries.map(\.entry)
        #expect(held == ["{\"seq\":3}", "{\"seq\":4}"], "seq 1-2 were held by head office a week ago; 3 was not then")
        #expect(try hub.hubRelayBatch(ledger: "0042.2", limit: 10)?.entries.isEmpty == true)
    }

    /// A nonce is kept in the hub's file: a request replayed after the hub restarted is still refused.
    @Test func aNonceIsUsedOnceAcrossRestarts() throws {
        let folder = TemporaryFolder()
        let expires = Date().addingTimeInterval(600)
        do {
            let hub = try LedgerDatabase(path: folder.file("hub.db"), creating: .init(storeId: "0042.1"))
            #expect(try hub.hubUseNonce("n-1", expiresAt: expires))
        }
        let reopened = try LedgerDatabase(path: folder.file("hub.db"))
        #expect(try reopened.hubUseNonce("n-1", expiresAt: expires) == false)
        #expect(try reopened.hubUseNonce("n-2", expiresAt: expires))
    }

    /// The other tills' entries count in a member's balance here until head office's marks (read before the
    /// snapshots of a completed pull) say the snapshots hold them; this till's own entries never come back.
    @Test func theOtherTillsEntriesCountUntilHeadOfficesSnapshotHoldsThem() throws {
        let folder = TemporaryFolder()
        let till = try LedgerDatabase(path: folder.file("till.db"), creating: .init(storeId: "0042.3"))
        let card = try CardNumber("2900000777774")
        _ = try till.enroll(card: card, name: nil, birthday: nil)
        _ = try till.award(
            card: card, amount: Money(minorUnits: 10_000, currency: .euro), receipt: ReceiptReference("R1"))
        let own = try #require(try till.lookup(card: card)).balance
        try till.applyHubUpdates(
            entries: [
                record("0042.2", 1, points: 50), record("0042.2", 2, points: -30), record("0042.3", 1, points: 1_000),
            ],
            cursor: 3, hubAcknowledged: nil, storeTills: nil)
        #expect(
            try till.lookup(card: card)?.balance == own + 20, "till 2's entries count; this till's own echo does not")
        try till.recordCompletedHeadOfficePull(storeTillMarks: ["0042.2": 1])
        #expect(try till.lookup(card: card)?.balance == own - 30, "head office's snapshot holds till 2's first entry")
        try till.recordCompletedHeadOfficePull(storeTillMarks: ["0042.2": 2])
        #expect(try till.lookup(card: card)?.balance == own)
        // Head office restored (its mark rewound): the entries it lost count again until it has them back.
        try till.recordCompletedHeadOfficePull(storeTillMarks: ["0042.2": 0])
        #expect(try till.lookup(card: card)?.balance == own + 20)
        #expect {
            _ = try till.redeem(card: card, points: own + 21, receipt: ReceiptReference("R2"))
        } throws: { ($0 as? LoyaltyError) != nil }
        #expect(try till.verify().ok)
    }

    /// Found by attack: a pull cut short after a page whose snapshot already held till 2's sale counted that sale
    /// twice (in the snapshot and from the hub) until the next whole pull, and it could be spent with the hub out of
    /// reach. A snapshot holds the other tills' entries up to its pull's marks, whole pull or not.
    @Test func aSnapshotFromAPullCutShortHoldsTheOtherTillsEntriesUpToItsMarks() throws {
        let folder = TemporaryFolder()
        let till = try LedgerDatabase(path: folder.file("till.db"), creating: .init(storeId: "0042.3"))
        let card = try CardNumber("2900000777774")
        let other = try CardNumber("2900000123458")
        for enrolled in [card, other] { _ = try till.enroll(card: enrolled, name: nil, birthday: nil) }
        try till.applyHubUpdates(
            entries: [record("0042.2", 1, points: 50), record("0042.2", 2, points: 7, card: other.value)],
            cursor: 2, hubAcknowledged: nil, storeTills: nil)
        #expect(try till.lookup(card: card)?.balance == 50, "till 2's sale, through the hub")
        // The first page of a pull brings the member's snapshot holding that sale; the pull stops there.
        try till.applyHeadOfficeUpdates(
            members: [
                HeadOfficeSnapshot(
                    cards: [card.value], balance: 50, tier: "base", rollingSpendMinor: 0, includesStoreSeq: 2)
            ],
            blockedCards: [], cursor: 5, storeTillMarks: ["0042.2": 1])
        #expect(try till.lookup(card: card)?.balance == 50, "counted once")
        #expect(try till.member(card: card).balance == 50)
        #expect {
            _ = try till.redeem(card: card, points: 51, receipt: ReceiptReference("R1"))
        } throws: { ($0 as? LoyaltyError)?.code == "over_balance" }
        // A member the cut pull did not bring still counts till 2's entries.
        #expect(try till.lookup(card: other)?.balance == 7)
        // Its next whole pull: the store's marks hold, the members' own are no longer needed.
        try till.recordCompletedHeadOfficePull(storeTillMarks: ["0042.2": 2])
        #expect(try till.lookup(card: card)?.balance == 50)
        #expect(try till.verify().ok)
    }

    /// Found by attack: in a whole pull of several pages, a sale of till 2 reaching head office between the first page
    /// and a later one is in the later page's snapshot; the pull's end set the first page's marks for every member and
    /// counted the sale twice (110 for 80). A member keeps the marks of the page that brought it.
    @Test func aSaleThatReachedHeadOfficeMidPullIsCountedOnce() throws {
        let folder = TemporaryFolder()
        let till = try LedgerDatabase(path: folder.file("till.db"), creating: .init(storeId: "0042.3"))
        let (early, late) = (try CardNumber("2900000777774"), try CardNumber("2900000123458"))
        for enrolled in [early, late] { _ = try till.enroll(card: enrolled, name: nil, birthday: nil) }
        try till.applyHubUpdates(
            entries: [
                record("0042.2", 1, points: 30, card: early.value), record("0042.2", 2, points: 80, card: late.value),
            ],
            cursor: 2, hubAcknowledged: nil, storeTills: nil)
        let snapshot = { (card: CardNumber, balance: Int64) in
            HeadOfficeSnapshot(
                cards: [card.value], balance: balance, tier: "base", rollingSpendMinor: 0, includesStoreSeq: 2)
        }
        // Page 1 (marks: till 2 at 1) brings `early`; till 2's sale for `late` lands; page 2 (marks: 2) brings `late`.
        try till.applyHeadOfficeUpdates(
            members: [snapshot(early, 30)], blockedCards: [], cursor: 5, storeTillMarks: ["0042.2": 1])
        try till.applyHeadOfficeUpdates(
            members: [snapshot(late, 80)], blockedCards: [], cursor: 7, storeTillMarks: ["0042.2": 2])
        try till.recordCompletedHeadOfficePull(storeTillMarks: ["0042.2": 1])
        #expect(try till.lookup(card: early)?.balance == 30)
        #expect(try till.lookup(card: late)?.balance == 80, "counted once, not in the snapshot and from the hub")
        #expect(try till.member(card: late).balance == 80)
        // Head office restored from a backup (a new epoch): the view may err low until head office has the entry back,
        // never high.
        _ = try till.adoptHeadOfficeEpoch("first")
        _ = try till.adoptHeadOfficeEpoch("restored")
        #expect(try till.lookup(card: late)?.balance == 80)
    }

    /// A member enrolled at till 2 while the WAN is down is known at till 3 through the hub, with the points
    /// earned at till 2 (and no more).
    @Test func aMemberEnrolledAtAnotherTillOfTheStoreIsKnownHere() throws {
        let folder = TemporaryFolder()
        let till = try LedgerDatabase(path: folder.file("till.db"), creating: .init(storeId: "0042.3"))
        let card = try CardNumber("2900000777774")
        var enrolment = record("0042.2", 1, points: 0)
        enrolment.kind = "enroll"
        enrolment.memberName = "Cleo"
        try till.applyHubUpdates(
            entries: [enrolment, record("0042.2", 2, points: 50)], cursor: 2, hubAcknowledged: nil, storeTills: nil)
        let known = try #require(try till.lookup(card: card))
        #expect(known.balance == 50)
        #expect {
            _ = try till.redeem(card: card, points: 51, receipt: ReceiptReference("R1"))
        } throws: { ($0 as? LoyaltyError) != nil }
        #expect(try till.redeem(card: card, points: 50, receipt: ReceiptReference("R1")).balance == 0)
        #expect(try till.verify().ok)
    }

    /// Found by attack: a card added to a member at another till was taken here for a new member, so a
    /// redemption on it was not charged to the member (who then spent the same points again here).
    @Test func aCardAddedAtAnotherTillIsTheMembersHereToo() throws {
        let folder = TemporaryFolder()
        let till = try LedgerDatabase(path: folder.file("till.db"), creating: .init(storeId: "0042.3"))
        let card = try CardNumber("2900000777774")
        let added = try CardNumber("2900000123458")
        var enrolment = record("0042.2", 1, points: 0)
        enrolment.kind = "enroll"
        var join = record("0042.2", 3, points: 0, card: added.value)
        join.kind = "enroll"
        join.joinsCard = card.value
        try till.applyHubUpdates(
            entries: [
                enrolment, record("0042.2", 2, points: 50), join, record("0042.2", 4, points: -10, card: added.value),
            ],
            cursor: 4, hubAcknowledged: nil, storeTills: nil)
        #expect(try till.lookup(card: card)?.balance == 40)
        #expect(try till.lookup(card: added)?.memberId == till.lookup(card: card)?.memberId)
        #expect {
            _ = try till.redeem(card: card, points: 41, receipt: ReceiptReference("R1"))
        } throws: { ($0 as? LoyaltyError) != nil }
    }

    @Test func tillLedgerNames() {
        #expect(TillIdentity(ledgerName: "0042.3") == TillIdentity(storeId: "0042", till: 3))
        #expect(TillIdentity(ledgerName: "0042")?.till == nil)
        #expect(TillIdentity(ledgerName: "store-7.999")?.ledgerName == "store-7.999")
        for bad in ["", ".3", "0042.", "0042.0", "0042.1000", "0042.01", "0042.3.4", "00 42.3", "0042.x", "0042.-1"] {
            #expect(TillIdentity(ledgerName: bad) == nil, "\(bad)")
        }
    }
}
