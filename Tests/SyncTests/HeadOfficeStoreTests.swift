import Foundation
import HeadOffice
import SyncProtocol
import TestSupport
import Testing

/// The storage contract, run against SQLite and PostgreSQL alike.
@Suite struct HeadOfficeStoreTests {
    let now = Date(timeIntervalSince1970: 1_795_340_100)

    @Test(arguments: Driver.allCases)
    func eachEntryIsStoredOnceAndDuplicatesChangeNothing(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "s", now: now)
            let batch = PushBatch(entries: (1...5).map { Harness.entry($0) }, backlog: 0)
            let first = try await store.ingest(storeId: "A", batch: batch, nonce: nil, now: now)
            #expect(first == PushResult(acknowledgedSeq: 5, accepted: 5, duplicates: 0, expectedSeq: nil))
            let again = try await store.ingest(storeId: "A", batch: batch, nonce: nil, now: now)
            #expect(again == PushResult(acknowledgedSeq: 5, accepted: 0, duplicates: 5, expectedSeq: nil))
            // Overlapping resend: 4, 5 repeat, 6, 7 are new.
            let overlap = try await store.ingest(
                storeId: "A", batch: PushBatch(entries: (4...7).map { Harness.entry($0) }, backlog: 3), nonce: nil,
                now: now)
            #expect(overlap == PushResult(acknowledgedSeq: 7, accepted: 2, duplicates: 2, expectedSeq: nil))
            #expect(try await store.totals() == [StoreTotal(storeId: "A", entries: 7, points: 70)])
            #expect(try await store.member(card: "2900000777774", now: now)?.balance == 70)
            #expect(try await store.stores().first?.reportedBacklog == 3)
        }
    }

    @Test(arguments: Driver.allCases)
    func aChangedEntryIsAConflictAndNothingIsStored(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "s", now: now)
            _ = try await store.ingest(
                storeId: "A", batch: PushBatch(entries: (1...3).map { Harness.entry($0) }, backlog: 0), nonce: nil,
                now: now)
            var changed = Harness.entry(2)
            changed.points = 999
            await #expect(throws: IngestRefusal.self) {
                try await store.ingest(
                    storeId: "A", batch: PushBatch(entries: [changed, Harness.entry(4)], backlog: 0), nonce: nil,
                    now: now)
            }
            // The refusal must come (a do/catch alone would pass when nothing is thrown) and name the field.
            let refusal = await #expect(throws: IngestRefusal.self) {
                try await store.ingest(
                    storeId: "A", batch: PushBatch(entries: [changed], backlog: 0), nonce: nil, now: now)
            }
            #expect(refusal?.kind == .conflict && refusal?.message.contains("points") == true)
            #expect(try await store.totals() == [StoreTotal(storeId: "A", entries: 3, points: 30)])
        }
    }

    @Test(arguments: Driver.allCases)
    func aGapKeepsTheContiguousPartAndNamesTheExpectedSequence(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "s", now: now)
            let gap = try await store.ingest(
                storeId: "A", batch: PushBatch(entries: [1, 2, 4, 5].map { Harness.entry($0) }, backlog: 0), nonce: nil,
                now: now)
            #expect(gap == PushResult(acknowledgedSeq: 2, accepted: 2, duplicates: 0, expectedSeq: 3))
            let ahead = try await store.ingest(
                storeId: "A", batch: PushBatch(entries: [Harness.entry(9)], backlog: 0), nonce: nil, now: now)
            #expect(ahead.expectedSeq == 3 && ahead.acknowledgedSeq == 2 && ahead.accepted == 0)
            #expect(try await store.totals().first?.entries == 2)
        }
    }

    @Test(arguments: Driver.allCases)
    func malformedEntriesAndUnknownStoresAreRefused(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "s", now: now)
            for bad in [
                Harness.entry(0), Harness.entry(-5), Harness.entry(1, kind: "steal"),
                Harness.entry(1, kind: "redeem", points: 5),
            ] {
                await #expect(throws: IngestRefusal.self) {
                    try await store.ingest(
                        storeId: "A", batch: PushBatch(entries: [bad], backlog: 0), nonce: nil, now: now)
                }
            }
            await #expect(throws: IngestRefusal.self) {
                try await store.ingest(
                    storeId: "A", batch: PushBatch(entries: [Harness.entry(1), Harness.entry(1)], backlog: 0),
                    nonce: nil, now: now)
            }
            await #expect(throws: IngestRefusal.self) {
                try await store.ingest(
                    storeId: "nobody", batch: PushBatch(entries: [Harness.entry(1)], backlog: 0), nonce: nil, now: now)
            }
            await #expect(throws: (any Error).self) { try await store.addStore(id: "A", secret: "other", now: now) }
            #expect(try await store.totals().isEmpty)
            #expect(try await store.secret(storeId: "A") == "s")
        }
    }

    @Test(arguments: Driver.allCases)
    func redemptionsAtTwoOfflineStoresOverdrawAndAreReported(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "a", now: now)
            try await store.addStore(id: "B", secret: "b", now: now)
            let card = "2900000123458"
            _ = try await store.ingest(
                storeId: "A", batch: PushBatch(entries: [Harness.entry(1, card: card, points: 100)], backlog: 0),
                nonce: nil, now: now)
            // Both stores saw 100 points and redeemed 80 while offline, in the same millisecond after A's sale
            // arrived: a fact, recorded, flagged (on the redemption that arrived second).
            let later: Int64 = 1_795_340_200_000
            _ = try await store.ingest(
                storeId: "A",
                batch: PushBatch(
                    entries: [Harness.entry(2, card: card, kind: "redeem", points: -80, at: later)], backlog: 0),
                nonce: nil, now: now)
            _ = try await store.ingest(
                storeId: "B",
                batch: PushBatch(
                    entries: [Harness.entry(1, card: card, kind: "redeem", points: -80, at: later)], backlog: 0),
                nonce: nil, now: now)
            let member = try #require(try await store.member(card: card, now: now))
            #expect(member.balance == -60 && member.overdrawn)
            #expect(member.stores.map(\.storeId) == ["A", "B"] && member.stores.map(\.points) == [20, -80])
            let overdrafts = try await store.overdrafts()
            #expect(
                overdrafts.count == 1 && overdrafts[0].storeId == "B" && overdrafts[0].balanceAfter == -60
                    && overdrafts[0].card == card)
        }
    }

    /// Found by attack: after a merge, an overdraft the other record's earlier sale covered in part kept the balance
    /// it had before (−100) until the member's next sale arrived. It is judged again on the whole member: −60.
    @Test(arguments: Driver.allCases)
    func aMergeJudgesTheOverdraftsAgainOnTheWholeMember(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            for id in ["A", "B", "C"] { try await store.addStore(id: id, secret: id.lowercased(), now: now) }
            let (p, q) = ("2900000123458", "2900000777774")
            let t: Int64 = 1_795_340_000_000
            let push = { (storeId: String, entries: [SyncEntry]) in
                _ = try await store.ingest(
                    storeId: storeId, batch: PushBatch(entries: entries, backlog: 0), nonce: nil, now: now)
            }
            try await push("B", [Harness.entry(1, card: q, points: 40, at: t)])
            try await push(
                "A",
                [
                    Harness.entry(1, card: p, points: 100, at: t),
                    Harness.entry(2, card: p, kind: "redeem", points: -100, at: t + 1_000),
                ])
            try await push("C", [Harness.entry(1, card: p, kind: "redeem", points: -100, at: t + 2_000)])
            #expect(try await store.overdrafts().map(\.balanceAfter) == [-100])
            try await store.mergeMembers(keep: p, other: q, actor: "test", reason: "one person", now: now)
            let overdrafts = try await store.overdrafts()
            #expect(overdrafts.map(\.storeId) == ["C"] && overdrafts.map(\.balanceAfter) == [-60], "\(overdrafts)")
            let member = try #require(try await store.member(card: p, now: now))
            #expect(member.balance == -60 && member.overdrawn)
        }
    }

    @Test(arguments: Driver.allCases)
    func pullsReturnChangedMembersAndBlockedCardsSinceTheCursor(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "a", now: now)
            try await store.addStore(id: "B", secret: "b", now: now)
            _ = try await store.ingest(
                storeId: "A",
                batch: PushBatch(
                    entries: [Harness.entry(1, card: "1111", points: 40), Harness.entry(2, card: "2222", points: 7)],
                    backlog: 0), nonce: nil, now: now)
            let first = try await store.updates(storeId: "B", since: 0, now: now)
            #expect(Set(first.members.map(\.card)) == ["1111", "2222"] && !first.more)
            #expect(first.members.first { $0.card == "1111" }?.balance == 40)
            #expect(first.members.allSatisfy { $0.includesStoreSeq == 0 })
            #expect(try await store.updates(storeId: "B", since: first.cursor, now: now).members.isEmpty)
            _ = try await store.ingest(
                storeId: "B",
                batch: PushBatch(entries: [Harness.entry(1, card: "1111", kind: "redeem", points: -15)], backlog: 0),
                nonce: nil, now: now)
            try await store.blockCard("3333", now: now)
            let second = try await store.updates(storeId: "B", since: first.cursor, now: now)
            #expect(second.members.map(\.card) == ["1111", "3333"] || second.members.map(\.card) == ["1111"])
            #expect(second.members.first { $0.card == "1111" }?.balance == 25)
            #expect(second.members.first { $0.card == "1111" }?.includesStoreSeq == 1)
            #expect(second.blockedCards == ["3333"])
            #expect(second.acknowledgedSeq == 1)
            #expect(try await store.updates(storeId: "B", since: second.cursor, now: now).blockedCards.isEmpty)
        }
    }

    /// `cards block` refuses a number no member holds unless forced (a mistyped card must not become a
    /// member); a lifted block travels to the stores as `unblocked_cards`, once, and only for cards
    /// that were blocked.
    @Test(arguments: Driver.allCases)
    func aBlockIsCheckedAndCanBeLiftedAtEveryStore(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "a", now: now)
            _ = try await store.ingest(
                storeId: "A", batch: PushBatch(entries: [Harness.entry(1, card: "1111", points: 40)], backlog: 0),
                nonce: nil,
                now: now)
            let refusal = await #expect(throws: IngestRefusal.self) {
                try await store.blockCard("9999", force: false, now: now)
            }
            #expect(refusal?.kind == .unknownCard && refusal?.message.contains("--force") == true)
            #expect(try await store.member(card: "9999", now: now) == nil, "a refused block creates no member")
            let start = try await store.updates(storeId: "A", since: 0, now: now).cursor
            #expect(try await store.blockCard("1111", force: false, now: now))
            #expect(
                try await store.blockCard("1111", force: false, now: now) == false, "already blocked: nothing changes")
            let blocked = try await store.updates(storeId: "A", since: start, now: now)
            #expect(blocked.blockedCards == ["1111"] && blocked.unblockedCards == nil)
            try await store.unblockCard("1111", now: now)
            let lifted = try await store.updates(storeId: "A", since: blocked.cursor, now: now)
            #expect(lifted.blockedCards.isEmpty && lifted.unblockedCards == ["1111"])
            #expect(try await store.updates(storeId: "A", since: lifted.cursor, now: now).unblockedCards == nil)
            let notBlocked = await #expect(throws: IngestRefusal.self) { try await store.unblockCard("1111", now: now) }
            #expect(notBlocked?.message.contains("is not blocked") == true)
            await #expect(throws: IngestRefusal.self) { try await store.unblockCard("8888", now: now) }
            #expect(try await store.member(card: "1111", now: now)?.balance == 40)
        }
    }

    @Test(arguments: Driver.allCases)
    func pagesNeverSplitAndNeverLoseAChange(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "a", now: now)
            // 1,200 members over 3 batches: pages of ~500 that keep each batch's version whole.
            for batch in 0..<3 {
                let entries = (1...400).map {
                    Harness.entry(Int64(batch * 400 + $0), card: "C\(batch * 400 + $0)", points: 1)
                }
                _ = try await store.ingest(
                    storeId: "A", batch: PushBatch(entries: entries, backlog: 0), nonce: nil, now: now)
            }
            var cursor: Int64 = 0
            var seen = Set<String>()
            var pages = 0
            repeat {
                let page = try await store.updates(storeId: "A", since: cursor, now: now)
                seen.formUnion(page.members.map(\.card))
                cursor = page.cursor
                pages += 1
                if !page.more { break }
            } while pages < 10
            #expect(seen.count == 1_200 && pages >= 2)
        }
    }

    @Test(arguments: Driver.allCases)
    func aNonceIsAcceptedOnce(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "a", now: now)
            #expect(try await store.useNonce(storeId: "A", nonce: "n1", now: now))
            #expect(try await store.useNonce(storeId: "A", nonce: "n1", now: now) == false)
            #expect(try await store.useNonce(storeId: "A", nonce: "n2", now: now))
        }
    }

    /// Any mix of duplicate, overlapping, out-of-order and gapped deliveries from several stores:
    /// head office ends with every entry once and balances equal to the stores' sums.
    @Test(arguments: Driver.allCases)
    func randomDeliveriesConvergeToTheStoresLedgers(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            var random = SeededRandom(seed: 77)
            let cards = ["C1", "C2", "C3", "C4"]
            var ledgers: [String: [SyncEntry]] = [:]
            for storeId in ["S1", "S2", "S3"] {
                try await store.addStore(id: storeId, secret: storeId, now: now)
                ledgers[storeId] = (1...120).map { seq in
                    Harness.entry(
                        Int64(seq), card: cards.randomElement(using: &random)!,
                        points: Int64.random(in: 1...50, using: &random))
                }
            }
            var acknowledged: [String: Int64] = [:]
            for _ in 0..<200 {
                let storeId = ["S1", "S2", "S3"].randomElement(using: &random)!
                let ledger = ledgers[storeId]!
                let start = max(1, Int(acknowledged[storeId, default: 0]) + 1 + Int.random(in: -20...5, using: &random))
                guard start <= ledger.count else { continue }
                let end = min(ledger.count, start + Int.random(in: 0...30, using: &random))
                var entries = Array(ledger[(start - 1)..<end])
                entries.shuffle(using: &random)
                let result = try await store.ingest(
                    storeId: storeId, batch: PushBatch(entries: entries, backlog: 0), nonce: nil, now: now)
                #expect(result.acknowledgedSeq >= acknowledged[storeId, default: 0], "the mark went backwards")
                acknowledged[storeId] = result.acknowledgedSeq
            }
            // Finish: each store sends the rest in order.
            for (storeId, ledger) in ledgers {
                let from = Int(acknowledged[storeId, default: 0])
                if from < ledger.count {
                    _ = try await store.ingest(
                        storeId: storeId, batch: PushBatch(entries: Array(ledger[from...]), backlog: 0), nonce: nil,
                        now: now)
                }
            }
            let totals = try await store.totals()
            for (storeId, ledger) in ledgers {
                #expect(
                    totals.first { $0.storeId == storeId }
                        == StoreTotal(storeId: storeId, entries: 120, points: ledger.reduce(0) { $0 + $1.points }))
            }
            for card in cards {
                let expected = ledgers.values.flatMap { $0 }.filter { $0.card == card }.reduce(0) { $0 + $1.points }
                #expect(try await store.member(card: card, now: now)?.balance == expected)
            }
        }
    }
}
