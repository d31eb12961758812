import Foundation
import GRDB
import LoyaltyCore
import PostgresNIO
import SyncProtocol
import TestSupport
import Testing

@testable import HeadOffice

/// What head office keeps per member so that its figures do not read the member's whole history (schema v46: the
/// totals per store ledger; v47 on PostgreSQL: returns at their sale's time) must always say what the entries say.
/// The sales since enrolment read only history before it. Three stores deliver their ledgers in random interleavings, returns of another store's sale sometimes arrive
/// before the sale, and members are merged along the way; after every delivery each card's look-up and the pull
/// are checked against the same figures summed straight from the entries delivered.
@Suite struct KeptMemberFiguresTests {
    static let cards = ["2900000777774", "2900000123458", "2900000999990", "2900000555555"]
    static let stores = ["A", "B", "C"]
    static let dayMilliseconds: Int64 = 86_400_000

    struct Sent {
        var store: String
        var entry: SyncEntry
    }

    /// A chain's history over 20 months: sales, redemptions and returns (of a sale at any store, never more than
    /// what is left of it), each store's entries in time order and numbered from 1.
    static func history(nowMilliseconds: Int64, _ random: inout SeededRandom) -> [Sent] {
        var times = (0..<60).map { _ in nowMilliseconds - Int64.random(in: 1...600, using: &random) * dayMilliseconds }
        times.sort()
        var sequence: [String: Int64] = [:]
        var sales: [(store: String, entry: SyncEntry, left: Int64)] = []
        var result: [Sent] = []
        for (index, time) in times.enumerated() {
            let store = stores.randomElement(using: &random)!
            let seq = (sequence[store] ?? 0) + 1
            sequence[store] = seq
            let card = cards.randomElement(using: &random)!
            var entry = Harness.entry(seq, card: card, points: 0, at: time + Int64(index))
            entry.id = "\(store):\(seq)"
            entry.receipt = "\(store)-R\(seq)"
            let open = sales.indices.filter { sales[$0].left > 0 }
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<3 where !open.isEmpty:
                returnPart(of: &sales[open.randomElement(using: &random)!], as: &entry, at: store, &random)
            case 4:
                entry.kind = "enroll"
                entry.amountMinor = 0
                entry.memberName = "Member \(card.suffix(4))"
            case 3:
                entry.kind = "redeem"
                entry.points = -5
                entry.amountMinor = 0
            default:
                entry.amountMinor = Int64.random(in: 100...20_000, using: &random)
                entry.points = entry.amountMinor / 100
                sales.append((store, entry, entry.amountMinor))
            }
            result.append(Sent(store: store, entry: entry))
        }
        return result
    }

    /// Makes `entry` (at `store`) the return of part of what is left of `sale`, its points pro rata.
    static func returnPart(
        of sale: inout (store: String, entry: SyncEntry, left: Int64), as entry: inout SyncEntry, at store: String,
        _ random: inout SeededRandom
    ) {
        let amount = Int64.random(in: 1...sale.left, using: &random)
        sale.left -= amount
        entry.card = sale.entry.card
        entry.kind = "reverse"
        entry.amountMinor = -amount
        entry.points = -(sale.entry.points * amount / sale.entry.amountMinor)
        entry.refersToSeq = sale.entry.seq
        entry.refersToStore = sale.store == store ? nil : sale.store
    }

    /// A member's figures as the delivered entries give them.
    struct Figures: Equatable {
        var balance: Int64 = 0
        var rollingSpendMinor: Int64 = 0
        var purchases: Int64 = 0
        var salesSinceEnrolment: Int64? = nil
        var stores: [String: HeadOfficeMember.StoreShare] = [:]
    }

    static func oracle(
        delivered: [Sent], memberOf: (String) -> String, windowStart: Int64
    ) -> [String: Figures] {
        let saleTimes = Dictionary(
            delivered.map { ("\($0.store):\($0.entry.seq)", $0.entry.createdAtMilliseconds) },
            uniquingKeysWith: { first, _ in first })
        var result: [String: Figures] = [:]
        for sent in delivered {
            let entry = sent.entry
            var figures = result[memberOf(entry.card)] ?? Figures()
            figures.balance += entry.points
            if entry.kind == "earn" { figures.purchases += 1 }
            var countsAt = entry.createdAtMilliseconds
            if entry.kind == "reverse", let sale = entry.refersToSeq {
                countsAt = saleTimes["\(entry.refersToStore ?? sent.store):\(sale)"] ?? countsAt
            }
            if countsAt > windowStart { figures.rollingSpendMinor += entry.amountMinor }
            var share =
                figures.stores[sent.store]
                ?? HeadOfficeMember.StoreShare(storeId: sent.store, points: 0, spendMinor: 0, entries: 0)
            share.points += entry.points
            share.spendMinor += entry.amountMinor
            share.entries += 1
            figures.stores[sent.store] = share
            result[memberOf(entry.card)] = figures
        }
        // Sales dated at or after the member's first enrolment (at any of its cards), none before any enrolment.
        for (member, enrolledAt) in Dictionary(
            delivered.filter { $0.entry.kind == "enroll" }.map {
                (memberOf($0.entry.card), $0.entry.createdAtMilliseconds)
            },
            uniquingKeysWith: min)
        {
            result[member]?.salesSinceEnrolment = Int64(
                delivered.filter {
                    memberOf($0.entry.card) == member && $0.entry.kind == "earn"
                        && $0.entry.createdAtMilliseconds >= enrolledAt
                }.count)
        }
        return result
    }

    /// Histories per driver (each on a fresh head office).
    static let runs = 4

    @Test(arguments: Driver.allCases)
    func keptFiguresAlwaysEqualTheEntriesWhateverTheOrderAndTheMerges(_ driver: Driver) async throws {
        var random = SeededRandom(seed: TestSeed.make("KeptMemberFiguresTests.\(driver)"))
        for _ in 0..<Self.runs {
            try await Self.deliverAndCheck(driver, &random)
        }
    }

    static func deliverAndCheck(_ driver: Driver, _ random: inout SeededRandom) async throws {
        try await Harness.withStore(driver) { store in
            let now = Date()
            for id in Self.stores { try await store.addStore(id: id, secret: "s\(id)", now: now) }
            let history = Self.history(nowMilliseconds: now.milliseconds, &random)
            var queues = Dictionary(grouping: history, by: \.store)
            var representative = Dictionary(uniqueKeysWithValues: Self.cards.map { ($0, $0) })
            func memberOf(_ card: String) -> String {
                var card = card
                while representative[card] != card { card = representative[card]! }
                return card
            }
            var delivered: [Sent] = []
            while let storeId = queues.filter({ !$0.value.isEmpty }).keys.sorted().randomElement(using: &random) {
                let count = min(queues[storeId]!.count, Int.random(in: 1...6, using: &random))
                let batch = Array(queues[storeId]!.prefix(count))
                queues[storeId]!.removeFirst(count)
                let result = try await store.ingest(
                    storeId: storeId, batch: PushBatch(entries: batch.map(\.entry), backlog: 0), nonce: nil, now: now)
                #expect(result.acknowledgedSeq == batch.last!.entry.seq)
                delivered += batch
                // Cards head office knows (an operator merges records it holds).
                let known = Self.cards.filter { card in delivered.contains { $0.entry.card == card } }
                if Int.random(in: 0..<6, using: &random) == 0 {
                    let keep = known.randomElement(using: &random)!
                    let other = known.randomElement(using: &random)!
                    if memberOf(keep) != memberOf(other) {
                        try await store.mergeMembers(keep: keep, other: other, actor: "test", reason: nil, now: now)
                        representative[memberOf(other)] = memberOf(keep)
                    }
                }
                let windowStart = now.milliseconds - HeadOfficeProgram.rollingWindowMilliseconds
                let expected = Self.oracle(delivered: delivered, memberOf: memberOf, windowStart: windowStart)
                for card in Self.cards {
                    guard let figures = expected[memberOf(card)] else { continue }
                    let member = try #require(try await store.member(card: card, now: now))
                    let seen = Figures(
                        balance: member.balance, rollingSpendMinor: member.rollingSpendMinor,
                        purchases: figures.purchases, salesSinceEnrolment: figures.salesSinceEnrolment,
                        stores: Dictionary(uniqueKeysWithValues: member.stores.map { ($0.storeId, $0) }))
                    #expect(seen == figures, "card \(card) after \(delivered.count) entries")
                    #expect(member.stores.map(\.storeId) == member.stores.map(\.storeId).sorted())
                }
                var cursor: Int64 = 0
                var pulled: [String: MemberSnapshot] = [:]
                for _ in 0..<100 {
                    let page = try await store.updates(storeId: "A", since: cursor, storeAcknowledged: nil, now: now)
                    for snapshot in page.members { pulled[memberOf(snapshot.card)] = snapshot }
                    cursor = page.cursor
                    if !page.more { break }
                }
                for (member, figures) in expected {
                    let snapshot = try #require(pulled[member], "member of \(member) pulled")
                    #expect(
                        [
                            snapshot.balance, snapshot.rollingSpendMinor, snapshot.purchases,
                            snapshot.salesSinceEnrolment,
                        ]
                            == [
                                figures.balance, figures.rollingSpendMinor, figures.purchases,
                                figures.salesSinceEnrolment,
                            ],
                        "snapshot of \(member) after \(delivered.count) entries")
                }
            }
            #expect(delivered.count == history.count)
        }
    }
}

extension KeptMemberFiguresTests {
    /// An older `loyalty-hq` merged by moving the entries and the cards itself: the kept figures follow the entries
    /// whoever moves them (found by attack: an older binary's merge on an upgraded database left the totals behind).
    @Test(arguments: Driver.allCases)
    func entriesMovedToAnotherMemberByAnyWriterTakeTheirFiguresAlong(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            let now = Date()
            let day = Self.dayMilliseconds
            for id in ["A", "B"] { try await store.addStore(id: id, secret: "s\(id)", now: now) }
            let (kept, merged) = (Self.cards[0], Self.cards[1])
            var sale = Harness.entry(1, card: merged, points: 30, at: now.milliseconds - 100 * day)
            sale.receipt = "A-1"
            var keptSale = Harness.entry(2, card: kept, points: 20, at: now.milliseconds - 90 * day)
            keptSale.receipt = "A-2"
            var back = Harness.entry(1, card: merged, kind: "reverse", points: -10, at: now.milliseconds - 50 * day)
            back.amountMinor = -1_000
            back.refersToSeq = 1
            back.refersToStore = "A"
            back.receipt = "B-1"
            _ = try await store.ingest(
                storeId: "A", batch: PushBatch(entries: [sale, keptSale], backlog: 0), nonce: nil, now: now)
            _ = try await store.ingest(
                storeId: "B", batch: PushBatch(entries: [back], backlog: 0), nonce: nil, now: now)
            // The older binary's merge, as it wrote it: entries, cards and balance; nothing of v46 or v47.
            let statements = [
                "UPDATE hq_entries SET member_id = (SELECT member_id FROM hq_cards WHERE card = '\(kept)') "
                    + "WHERE member_id = (SELECT member_id FROM hq_cards WHERE card = '\(merged)')",
                "UPDATE hq_members SET balance = 40 WHERE id = (SELECT member_id FROM hq_cards WHERE card = '\(kept)')",
                "UPDATE hq_cards SET member_id = (SELECT member_id FROM hq_cards WHERE card = '\(kept)') "
                    + "WHERE card = '\(merged)'",
            ]
            for statement in statements {
                if let postgres = store as? PostgresHeadOfficeStore {
                    try await postgres.client.query(PostgresQuery(unsafeSQL: statement), logger: Harness.logger)
                } else if let sqlite = store as? SQLiteHeadOfficeStore {
                    try await sqlite.pool.write { try $0.execute(sql: statement) }
                }
            }
            let member = try #require(try await store.member(card: merged, now: now))
            #expect(member.balance == 40)
            #expect(
                member.stores == [
                    .init(storeId: "A", points: 50, spendMinor: 5_000, entries: 2),
                    .init(storeId: "B", points: -10, spendMinor: -1_000, entries: 1),
                ])
            #expect(member.rollingSpendMinor == 4_000, "the return still counts with its sale, for the member kept")
            let page = try await store.updates(storeId: "A", since: 0, storeAcknowledged: nil, now: now)
            let snapshot = try #require(page.members.first { $0.cards.contains(kept) })
            #expect(snapshot.purchases == 2 && snapshot.rollingSpendMinor == 4_000)
        }
    }
}

extension KeptMemberFiguresTests {
    /// The member list counts a member's purchases as the tills' snapshot does: the stores' sales and the imported
    /// ones (found by attack: the list left the imported sales out).
    @Test(arguments: Driver.allCases)
    func theMemberListCountsPurchasesAsTheSnapshotDoes(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            let now = Date()
            let card = Self.cards[0]
            let day = Self.dayMilliseconds
            _ = try await store.importHistory(
                [
                    HistoryRow(
                        line: 1, card: card, storeId: "OLD", receipt: "H1", atMilliseconds: now.milliseconds - 40 * day,
                        amountMinor: 2_000),
                    HistoryRow(
                        line: 2, card: card, storeId: "OLD", receipt: "H2", atMilliseconds: now.milliseconds - 30 * day,
                        amountMinor: 1_000),
                ], actor: "test", now: now)
            try await store.addStore(id: "A", secret: "sA", now: now)
            var sale = Harness.entry(1, card: card, points: 10, at: now.milliseconds - day)
            sale.receipt = "A-1"
            _ = try await store.ingest(
                storeId: "A", batch: PushBatch(entries: [sale], backlog: 0), nonce: nil, now: now)
            let listed = try #require(try await store.memberList().first { $0.card == card })
            let page = try await store.updates(storeId: "A", since: 0, storeAcknowledged: nil, now: now)
            let snapshot = try #require(page.members.first { $0.cards.contains(card) })
            #expect(listed.purchases == 3 && snapshot.purchases == 3)
        }
    }
}
