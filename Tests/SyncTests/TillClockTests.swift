import Foundation
import HeadOffice
import LoyaltyCore
import SyncProtocol
import Synchronization
import TestSupport
import Testing

@testable import LedgerStore
@testable import SyncClient

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
                _ = try till.ledger.award(
                    card: card, amount: money("50.00"), receipt: ReceiptReference("A-1"), at: ahead)
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
                #expect(
                    abs(Double(dated) - headOfficeNow) < 30_000, "dated \(dated), head office's now \(headOfficeNow)")
                // A later process (the next command) starts from what was learnt.
                let reopened = try LedgerDatabase(path: till.folder.file("A.db"))
                #expect(abs(Double(reopened.headOfficeClockOffsetMilliseconds) - headOfficeAheadSeconds * 1000) < 5_000)
            }
        }
    }

    /// A till a minute and a half behind was never refused as `stale` (five minutes allowed), so it never learnt head
    /// office's clock: its sale near midnight landed on the day before. Every sync's answer carries head office's
    /// clock now; the till follows it, and follows it back when the difference goes (found by attack: a clock set
    /// right after a `stale` refusal kept the old offset and dated every sale two days back).
    @Test func aTillFollowsHeadOfficesClockAtEverySync() async throws {
        let headOfficeAheadSeconds = Mutex(90.0)
        try await Harness.withStore(.sqlite) { store in
            try await store.addStore(id: "A", secret: "s", now: Date())
            let clock: @Sendable () -> Date = { Date().addingTimeInterval(headOfficeAheadSeconds.withLock { $0 }) }
            try await Harness.withServer(store, clock: clock) { base in
                let till = try AgentSyncTests.Till("A", secret: "s", base: base)
                #expect(till.ledger.headOfficeClockOffsetMilliseconds.magnitude < 1_000)
                _ = try await till.client.syncOnce()
                // Read as of the answer's arrival: late by its way back (here, the machine's load), never ahead.
                let followed = { (offset: Int64) in (60_000...91_000).contains(offset) }
                #expect(
                    followed(till.ledger.headOfficeClockOffsetMilliseconds),
                    "\(till.ledger.headOfficeClockOffsetMilliseconds)")
                let reopened = try LedgerDatabase(path: till.folder.file("A.db"))
                #expect(followed(reopened.headOfficeClockOffsetMilliseconds))
                headOfficeAheadSeconds.withLock { $0 = 0 }
                _ = try await till.client.syncOnce()
                #expect((-30_000...1_000).contains(till.ledger.headOfficeClockOffsetMilliseconds))
            }
        }
    }

    /// Found by attack: a till whose clock was right at its sync kept no reading of head office's clock (the change was
    /// under a second), so a wall clock set two hours back afterwards dated the next redemption two hours back. The
    /// first answer of a boot is kept: the till then dates entries by it and the time since boot, and a process
    /// opening the ledger later in the boot does too.
    @Test func aTillWhoseClockIsRightKeepsHeadOfficesReadingOfThisBoot() async throws {
        try await Harness.withStore(.sqlite) { store in
            try await store.addStore(id: "A", secret: "s", now: Date())
            try await Harness.withServer(store) { base in
                let till = try AgentSyncTests.Till("A", secret: "s", base: base)
                #expect(!till.ledger.isDatedByAReadingOfThisBoot())
                let card = try CardNumber(GTIN.withCheckDigit("290000091018"))
                _ = try till.ledger.enroll(card: card, name: nil, birthday: nil)
                _ = try await till.client.syncOnce()
                #expect(till.ledger.headOfficeClockOffsetMilliseconds.magnitude < 1_000)
                #expect(till.ledger.isDatedByAReadingOfThisBoot(), "a reading of this boot kept")
                let reopened = try LedgerDatabase(path: till.folder.file("A.db"))
                #expect(reopened.isDatedByAReadingOfThisBoot())
            }
        }
    }

    /// Found by attack: a till's clock ran 400 days behind when it sold and was set right before it synced; head
    /// office counted the sale 400 days back, out of the member's 12-month spend. A till's entries come in sequence:
    /// an entry dated before the one before it counts from that one (its stated time kept, so a resend is the same
    /// entry), in a later batch or the same.
    @Test(arguments: Driver.allCases)
    func anEntryDatedBeforeTheEntryBeforeItCountsFromIt(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "s", now: Date())
            let now = Date()
            let nowMs = Int64(now.timeIntervalSince1970 * 1000)
            let first = PushBatch(entries: [Harness.entry(1, points: 10, at: nowMs - 60_000)], backlog: 0)
            _ = try await store.ingest(storeId: "A", batch: first, nonce: nil, now: now)
            // 400 days back, and one more a minute "before" it in the same batch.
            let back = nowMs - 400 * 86_400_000
            let late = PushBatch(
                entries: [Harness.entry(2, points: 20, at: back), Harness.entry(3, points: 30, at: back - 60_000)],
                backlog: 0)
            _ = try await store.ingest(storeId: "A", batch: late, nonce: nil, now: now.addingTimeInterval(3_600))
            let member = try #require(try await store.member(card: "2900000777774", now: now.addingTimeInterval(3_600)))
            #expect(member.balance == 60)
            #expect(member.rollingSpendMinor == 6_000, "all three sales in the 12 months: \(member.rollingSpendMinor)")
            let again = try await store.ingest(
                storeId: "A", batch: late, nonce: nil, now: now.addingTimeInterval(7_200))
            #expect(again.duplicates == 2 && again.acknowledgedSeq == 3, "the same entries sent again")
            // Dated correctly after: counted at its own time.
            let next = PushBatch(entries: [Harness.entry(4, points: 40, at: nowMs + 7_300_000)], backlog: 0)
            _ = try await store.ingest(storeId: "A", batch: next, nonce: nil, now: now.addingTimeInterval(7_400))
            #expect(try await store.member(card: "2900000777774", now: now.addingTimeInterval(7_400))?.balance == 100)
        }
    }

    /// Found by attack: a till two days fast priced a sale by a version head office published for tomorrow. The till
    /// chooses the version in force by head office's clock once it has learnt it.
    @Test func theProgramInForceIsChosenByHeadOfficesClock() async throws {
        let twoDays = 2 * 86_400.0
        try await Harness.withStore(.sqlite) { store in
            try await store.addStore(id: "A", secret: "s", now: Date())
            let headOfficeNow = Date().addingTimeInterval(-twoDays)
            let tomorrow = ISO8601DateFormatter().string(from: headOfficeNow.addingTimeInterval(86_400))
            let later = try ProgramFile.parse(
                """
                valid_from: \(tomorrow)
                earning: {points_per_unit: 3, rounding: down}
                tiers:
                  - {name: base, min_rolling_spend: "0", earn_multiplier_percent: 100}
                redemption: {point_value_minor: 1, minimum_points: 1, step_points: 1}
                """)
            _ = try await store.publishProgram(later, actor: "test", now: headOfficeNow)
            try await Harness.withServer(store, clock: { Date().addingTimeInterval(-twoDays) }) { base in
                let till = try AgentSyncTests.Till("A", secret: "s", base: base)
                let card = try CardNumber(GTIN.withCheckDigit("290000091017"))
                _ = try await till.client.syncOnce()
                _ = try till.ledger.enroll(card: card, name: "Ana", birthday: nil)
                let sale = try till.ledger.award(card: card, amount: money("100.00"), receipt: ReceiptReference("P-1"))
                #expect(sale.ruleVersion == 1 && sale.points == 100, "\(sale)")
            }
        }
    }

    /// The time on an answer comes from the network: any text, any number, changes nothing it should not and traps
    /// nothing; a slow answer (its middle unknown) is not read.
    @Test func extremeTimesOnAnAnswerChangeNothing() throws {
        let till = try AgentSyncTests.Till("A", secret: "s", base: URL(string: "http://127.0.0.1:9")!)
        for header in [
            nil, "", "abc", "9223372036854775807", "-9223372036854775808", "1e9", " 1",
            String(repeating: "9", count: 10_000),
        ] {
            try till.client.followHeadOfficesClock(header, sentAt: Date())
            #expect(till.ledger.headOfficeClockOffsetMilliseconds.magnitude < 1_000, "\(header ?? "nil")")
        }
        let now = Date()
        let soon = String(Int64(now.timeIntervalSince1970 * 1000) + 60_000)
        try till.client.followHeadOfficesClock(soon, sentAt: now.addingTimeInterval(-31), receivedAt: now)
        #expect(till.ledger.headOfficeClockOffsetMilliseconds.magnitude < 1_000, "a 31 s round trip is not read")
        try till.client.followHeadOfficesClock(soon, sentAt: now.addingTimeInterval(1), receivedAt: now)
        #expect(
            till.ledger.headOfficeClockOffsetMilliseconds.magnitude < 1_000, "an answer before its request is not read")
        // A slow answer from a head office whose clock agrees: stamped three seconds before it arrived, no correction.
        let stampedEarly = String(Int64(now.timeIntervalSince1970 * 1000) - 3_000)
        try till.client.followHeadOfficesClock(stampedEarly, sentAt: now.addingTimeInterval(-3.5), receivedAt: now)
        #expect(till.ledger.headOfficeClockOffsetMilliseconds.magnitude < 1_000, "a slow answer is no clock difference")
        try till.client.followHeadOfficesClock(soon, sentAt: now.addingTimeInterval(-2), receivedAt: now)
        #expect(abs(till.ledger.headOfficeClockOffsetMilliseconds - 60_000) < 1_000)
    }

    /// Found by attack: a till two days behind sold before its first sync; head office counted the sale two days back,
    /// and with another store's sale the same real day the member earned the day cap twice. The till keeps when the
    /// sale was written (time since boot); the clock learnt at the sync dates it exactly, and head office counts it on
    /// the real day (the stated time stays as the till wrote it).
    @Test(arguments: Driver.allCases)
    func aSaleMadeBeforeTheTillLearntHeadOfficesClockCountsOnTheRealDay(_ driver: Driver) async throws {
        let twoDays = 2 * 86_400.0
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "sa", now: Date())
            try await store.addStore(id: "B", secret: "sb", now: Date())
            let program = try MemberFactsTravelTests.dayCapProgram()
            _ = try await store.publishProgram(program, actor: "test", now: Date().addingTimeInterval(twoDays - 86_400))
            try await Harness.withServer(store, clock: { Date().addingTimeInterval(twoDays) }) { base in
                let (a, b) = (
                    try AgentSyncTests.Till("A", secret: "sa", base: base),
                    try AgentSyncTests.Till("B", secret: "sb", base: base)
                )
                _ = try await b.client.syncOnce()
                // Till A has never synced: its clock, two days behind, dates the enrolment and the sale.
                let card = try CardNumber(GTIN.withCheckDigit("290000091025"))
                _ = try a.ledger.enroll(card: card, name: "Ana", birthday: nil)
                _ = try a.ledger.award(card: card, amount: money("150.00"), receipt: ReceiptReference("A-1"))
                _ = try await a.client.syncOnce()
                _ = try await b.client.syncOnce()
                let atB = try b.ledger.award(card: card, amount: money("150.00"), receipt: ReceiptReference("B-1"))
                #expect(atB.points == 0, "the day's 100 were earned at A today: \(atB)")
                _ = try await b.client.syncOnce()
                #expect(
                    try await store.member(card: card.value, now: Date().addingTimeInterval(twoDays))?.balance == 100)
                let history = try await store.pointHistories(cards: [card.value], expiredOnly: false)
                let counted = try #require(history.first?.events.first { $0.key == "A:2" }?.atMilliseconds)
                let headOfficeNow = Date().addingTimeInterval(twoDays).timeIntervalSince1970 * 1000
                #expect(
                    abs(Double(counted) - headOfficeNow) < 60_000,
                    "counted \(counted), head office's now \(headOfficeNow)")
            }
        }
    }

    /// Found by attack: a till restarted a day fast sold before its first sync by a version valid only from tomorrow;
    /// head office moved the sale to today by its clock correction but kept the version's 300 points. A version the
    /// till recorded is trusted only from its valid_from on, at the sale's corrected time.
    @Test(arguments: Driver.allCases)
    func aSalePricedByAVersionNotYetInForceIsRepricedByTheOneThatWas(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            let now = Date()
            let tomorrow = ISO8601DateFormatter().string(from: now.addingTimeInterval(12 * 3_600))
            try await store.addStore(id: "A", secret: "s", now: now)
            let rules = { (points: Int, from: String) in
                try ProgramFile.parse(
                    """
                    valid_from: \(from)
                    earning: {points_per_unit: \(points), rounding: down}
                    tiers:
                      - {name: base, min_rolling_spend: "0", earn_multiplier_percent: 100}
                    redemption: {point_value_minor: 1, minimum_points: 1, step_points: 1}
                    """)
            }
            _ = try await store.publishProgram(try rules(1, "2020-01-01T00:00:00Z"), actor: "test", now: now)
            _ = try await store.publishProgram(try rules(3, tomorrow), actor: "test", now: now)
            let card = "2900000777774"
            let dayAhead: Int64 = 86_400_000
            var sale = Harness.entry(
                2, card: card, points: 300, amount: 10_000, at: Int64(now.timeIntervalSince1970 * 1000) + dayAhead)
            sale.ruleVersion = 3
            (sale.earningBase, sale.pricedTier, sale.pricedBirthday, sale.pointsBeforeCaps) = (300, "base", false, 300)
            sale.clockCorrectionMilliseconds = -dayAhead
            let enrol = Harness.entry(
                1, card: card, kind: "enroll", points: 0, at: Int64(now.timeIntervalSince1970 * 1000) + dayAhead)
            // The 300 are spent before head office hears of the sale (found by the check of this fix: −190, unlisted).
            var spent = Harness.entry(
                3, card: card, kind: "redeem", points: -250, at: Int64(now.timeIntervalSince1970 * 1000) + dayAhead)
            spent.clockCorrectionMilliseconds = -dayAhead
            _ = try await store.ingest(
                storeId: "A", batch: PushBatch(entries: [enrol, sale, spent], backlog: 0), nonce: nil, now: now)
            let corrections = try await store.reconcileSalePrices(cards: [card], actor: "test", now: now)
            #expect(corrections.map(\.points) == [-200], "\(corrections)")
            #expect(try await store.member(card: card, now: now)?.balance == -150)
            // No redemption overdrew (there were 300 when it was made): head office's correction did; it is listed.
            #expect(try await store.overdrafts().isEmpty)
            #expect(try await store.membersBelowZero() == [MemberBelowZero(card: card, balance: -150)])
        }
    }

    /// Found by attack: a till four minutes slow (never refused as `stale`) sold before its first sync; the push went
    /// before any reading of head office's clock and the sale counted four minutes early (the day before, at
    /// midnight). The till reads the clock from head office's health answer before that push.
    @Test func aSaleOfATillAFewMinutesOffBeforeItsFirstSyncCountsAtTheRealTime() async throws {
        try await Harness.withStore(.sqlite) { store in
            try await store.addStore(id: "A", secret: "s", now: Date())
            try await Harness.withServer(store, clock: { Date().addingTimeInterval(240) }) { base in
                let till = try AgentSyncTests.Till("A", secret: "s", base: base)
                let card = try CardNumber(GTIN.withCheckDigit("290000091041"))
                _ = try till.ledger.enroll(card: card, name: "Ana", birthday: nil)
                _ = try till.ledger.award(card: card, amount: money("10.00"), receipt: ReceiptReference("F-1"))
                _ = try await till.client.syncOnce()
                let history = try await store.pointHistories(cards: [card.value], expiredOnly: false)
                let counted = try #require(history.first?.events.first { $0.key == "A:2" }?.atMilliseconds)
                let headOfficeNow = Date().addingTimeInterval(240).timeIntervalSince1970 * 1000
                #expect(
                    abs(Double(counted) - headOfficeNow) < 30_000,
                    "counted \(counted), head office's now \(headOfficeNow)")
            }
        }
    }

    /// A correction comes from the network: beyond a week either way, or at the extremes, the stated time stands and
    /// nothing traps.
    @Test(arguments: Driver.allCases)
    func extremeClockCorrectionsLeaveTheStatedTime(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "s", now: Date())
            let stated = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
            let corrections: [Int64] = [Int64.min, Int64.max, 8 * 86_400_000, -8 * 86_400_000, -stated - 1]
            let entries = corrections.enumerated().map { index, correction in
                var entry = Harness.entry(Int64(index + 1), at: stated)
                entry.clockCorrectionMilliseconds = correction
                return entry
            }
            _ = try await store.ingest(
                storeId: "A", batch: PushBatch(entries: entries, backlog: 0), nonce: nil, now: Date())
            let history = try await store.pointHistories(cards: ["2900000777774"], expiredOnly: false)
            #expect(history.first?.events.map(\.atMilliseconds) == Array(repeating: stated, count: corrections.count))
        }
    }

    /// Found by attack: a till restarted with its clock 40 minutes slow, 20 minutes after its last sync, saw that sync
    /// "in the future" and redeemed 500 points past its 100-point offline cap. A last sync of another boot that seems
    /// to come after now counts as long ago; one of this boot is measured by the time since boot.
    @Test func theOfflineCapHoldsWhenTheClockWentBack() throws {
        let till = try AgentSyncTests.Till("A", secret: "s", base: URL(string: "http://127.0.0.1:9")!)
        let card = try CardNumber(GTIN.withCheckDigit("290000091033"))
        _ = try till.ledger.enroll(card: card, name: "Ana", birthday: nil)
        _ = try till.ledger.award(card: card, amount: money("1000.00"), receipt: ReceiptReference("C-1"))
        try till.ledger.recordSync(error: nil)
        _ = try till.ledger.redeem(card: card, points: 500, receipt: ReceiptReference("C-2"), offlineCap: 100)
        // The box restarts (another boot) with its clock 40 minutes behind the last sync's.
        let later = String(Int64(Date().timeIntervalSince1970 * 1000) + 40 * 60_000)
        try till.ledger.write { db in
            try db.execute(
                sql: "UPDATE store_meta SET value = ? WHERE key = 'last_sync_ok_ms'", arguments: [later])
            try db.execute(sql: "UPDATE store_meta SET value = 'another-boot 1000' WHERE key = 'last_sync_ok_boot'")
        }
        #expect {
            _ = try till.ledger.redeem(card: card, points: 300, receipt: ReceiptReference("C-3"), offlineCap: 100)
        } throws: { ($0 as? LoyaltyError)?.code == "offline_cap" }
        // A meta edited to extremes traps nothing: the till counts as offline.
        for (time, boot) in [("-9223372036854775808", "x -9223372036854775808"), ("9223372036854775807", "y 1")] {
            try till.ledger.write { db in
                try db.execute(sql: "UPDATE store_meta SET value = ? WHERE key = 'last_sync_ok_ms'", arguments: [time])
                try db.execute(
                    sql: "UPDATE store_meta SET value = ? WHERE key = 'last_sync_ok_boot'", arguments: [boot])
            }
            #expect {
                _ = try till.ledger.redeem(card: card, points: 300, receipt: ReceiptReference("C-4"), offlineCap: 100)
            } throws: { ($0 as? LoyaltyError)?.code == "offline_cap" }
        }
    }

    /// Head office's clock as read holds for the rest of the boot, whatever the wall clock does after; after a restart
    /// the wall clock and the offset stand in.
    @Test func headOfficesClockHoldsWhenTheWallClockIsSetRight() {
        let learnt = HeadOfficeClock(offsetMilliseconds: -172_800_000, reading: ("boot-1", 1_000_000_000, 5_000))
        // The till's wall clock was two days fast when it learnt; it is set right, and 60 s pass.
        #expect(
            learnt.now(wallClockMilliseconds: 1_000_060_000, bootId: "boot-1", sinceBootMilliseconds: 65_000)
                == 1_000_060_000)
        #expect(
            learnt.now(wallClockMilliseconds: 1_000_060_000, bootId: "boot-2", sinceBootMilliseconds: 1_000)
                == 827_260_000)
        let extreme = HeadOfficeClock(offsetMilliseconds: 1, reading: ("b", Int64.max, 0))
        #expect(
            extreme.now(wallClockMilliseconds: Int64.max, bootId: "b", sinceBootMilliseconds: Int64.max) == Int64.max)
    }

    @Test(arguments: Driver.allCases)
    func anEntryDatedAheadIsTheSameEntryWhenItIsSentAgain(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "s", now: Date())
            let ahead = Int64(Date().addingTimeInterval(30 * 86_400).timeIntervalSince1970 * 1000)
            let batch = PushBatch(entries: [Harness.entry(1, points: 40, at: ahead)], backlog: 0)
            _ = try await store.ingest(storeId: "A", batch: batch, nonce: nil, now: Date())
            let again = try await store.ingest(
                storeId: "A", batch: batch, nonce: nil, now: Date().addingTimeInterval(60))
            #expect(again.duplicates == 1 && again.acknowledgedSeq == 1)
            #expect(try await store.member(card: "2900000777774", now: Date())?.rollingSpendMinor == 4_000)
        }
    }
}
