import Foundation
import GRDB
import LoyaltyCore
import PostgresNIO
import SyncProtocol
import TestSupport
import Testing

@testable import HeadOffice

/// `--pull-scope store`: a till pulls the members its store has served (entries from any of its tills), and
/// every later change of them, whoever made it; nothing else.
@Suite struct PullScopeTests {
    static let now = Date(timeIntervalSince1970: 1_795_340_000)

    /// One sale of `points` on `card` from `ledger`, its entry `seq`.
    static func earn(
        _ store: any HeadOfficeStore, _ ledger: String, seq: Int64, card: String, points: Int64
    ) async throws {
        _ = try await store.ingest(
            storeId: ledger, batch: PushBatch(entries: [Harness.entry(seq, card: card, points: points)], backlog: 0),
            nonce: nil, now: now)
    }

    /// Every page of a store's pull since `cursor`: the members (first card → balance) and the new cursor.
    static func pullAll(
        _ store: any HeadOfficeStore, ledger: String, since cursor: Int64, scope: PullScope
    ) async throws -> (members: [String: Int64], cursor: Int64) {
        var members: [String: Int64] = [:]
        var cursor = cursor
        for _ in 0..<100 {
            let page = try await store.updates(
                storeId: ledger, since: cursor, storeAcknowledged: nil, scope: scope, now: now)
            for member in page.members { members[member.card] = member.balance }
            cursor = page.cursor
            if !page.more { break }
        }
        return (members, cursor)
    }

    @Test(arguments: Driver.allCases)
    func aStorePullsTheMembersItServedAndTheirChangesElsewhere(_ driver: Driver) async throws {
        let alice = "2900000777774"
        let bob = "2900000123458"
        try await Harness.withStore(driver) { store in
            for id in ["A.1", "A.2", "B"] { try await store.addStore(id: id, secret: id, now: Self.now) }
            try await Self.earn(store, "A.1", seq: 1, card: alice, points: 40)
            try await Self.earn(store, "B", seq: 1, card: bob, points: 7)
            // Both tills of store A see Alice (served at till 1), not Bob; the chain scope brings both.
            for till in ["A.1", "A.2"] {
                #expect(try await Self.pullAll(store, ledger: till, since: 0, scope: .store).members == [alice: 40])
            }
            #expect(
                try await Self.pullAll(store, ledger: "A.2", since: 0, scope: .chain).members == [alice: 40, bob: 7])
            let cursorA = try await Self.pullAll(store, ledger: "A.2", since: 0, scope: .store).cursor
            let cursorB = try await Self.pullAll(store, ledger: "B", since: 0, scope: .store).cursor

            // Alice buys at B: store B now pulls her (her whole balance), and store A pulls the change made at B.
            try await Self.earn(store, "B", seq: 2, card: alice, points: 5)
            #expect(try await Self.pullAll(store, ledger: "B", since: cursorB, scope: .store).members == [alice: 45])
            let afterSale = try await Self.pullAll(store, ledger: "A.1", since: cursorA, scope: .store)
            #expect(afterSale.members == [alice: 45])

            // Head office's own entry for Bob (served only at B) reaches B, not A.
            let bobId = try #require(try await store.member(card: bob, now: Self.now)?.memberId)
            _ = try await store.issue(
                [
                    IssuedEntryRequest(
                        memberId: bobId, card: bob, kind: .adjust, points: 3, reason: "goodwill", idempotencyKey: "k1",
                        createdAtMilliseconds: 1_795_340_000_000)
                ], actor: "ops", now: Self.now)
            #expect(
                try await Self.pullAll(store, ledger: "A.1", since: afterSale.cursor, scope: .store).members.isEmpty)

            // Bob's record merged into Alice's: store A pulls the merged member; B still has her.
            try await store.mergeMembers(keep: alice, other: bob, actor: "ops", reason: "same person", now: Self.now)
            #expect(
                try await Self.pullAll(store, ledger: "A.2", since: afterSale.cursor, scope: .store).members == [
                    alice: 55
                ])
        }
    }

    /// A head office upgraded to schema v41 feeds every store the members it served before the upgrade (entries of
    /// any of its tills, imported sales), and follows their changes from then on.
    @Test(arguments: Driver.allCases)
    func anUpgradedHeadOfficeFeedsEachStoreTheMembersItServedBefore(_ driver: Driver) async throws {
        let alice = "2900000777774"
        let bob = "2900000123458"
        try await Harness.withStore(driver) { store in
            for id in ["A.1", "B"] { try await store.addStore(id: id, secret: id, now: Self.now) }
            try await Self.earn(store, "A.1", seq: 1, card: alice, points: 40)
            try await Self.earn(store, "B", seq: 1, card: bob, points: 7)
            // Back to schema v40 (no feed), then migrated again as an upgrade would be.
            if let sqlite = store as? SQLiteHeadOfficeStore {
                try await sqlite.pool.write { db in
                    try db.execute(
                        sql: """
                            DROP TRIGGER hq_member_stores_follow; DROP TABLE hq_member_stores;
                            DELETE FROM grdb_migrations WHERE identifier = 'hq-v41-member-stores';
                            """)
                }
            } else if let postgres = store as? PostgresHeadOfficeStore {
                for statement in [
                    "DROP TABLE hq_member_stores", "DROP TRIGGER hq_member_stores_follow ON hq_members",
                    "DROP FUNCTION hq_member_stores_follow()", "DELETE FROM hq_schema WHERE version = 41",
                ] {
                    try await postgres.client.query(PostgresQuery(unsafeSQL: statement), logger: Harness.logger)
                }
            }
            try await store.migrate()
            #expect(try await Self.pullAll(store, ledger: "A.1", since: 0, scope: .store).members == [alice: 40])
            let cursor = try await Self.pullAll(store, ledger: "B", since: 0, scope: .store)
            #expect(cursor.members == [bob: 7])
            try await Self.earn(store, "A.1", seq: 2, card: bob, points: 1)
            #expect(try await Self.pullAll(store, ledger: "B", since: cursor.cursor, scope: .store).members == [bob: 8])
        }
    }

    /// A till's asked cards (met without knowing them): the members holding them come with the store's next pull
    /// and every change after; a card no member holds is answered as unknown.
    @Test(arguments: Driver.allCases)
    func askedCardsJoinTheStoresPull(_ driver: Driver) async throws {
        let alice = "2900000777774"
        let nobody = "2900000555555"
        try await Harness.withStore(driver) { store in
            for id in ["A", "C.2"] { try await store.addStore(id: id, secret: id, now: Self.now) }
            try await Self.earn(store, "A", seq: 1, card: alice, points: 40)
            let cursor = try await Self.pullAll(store, ledger: "C.2", since: 0, scope: .store).cursor
            #expect(try await store.markServed(storeId: "C.2", cards: [nobody], now: Self.now).isEmpty)
            #expect(try await Self.pullAll(store, ledger: "C.2", since: cursor, scope: .store).members.isEmpty)
            #expect(try await store.markServed(storeId: "C.2", cards: [alice, nobody], now: Self.now) == [alice])
            let asked = try await Self.pullAll(store, ledger: "C.2", since: cursor, scope: .store)
            #expect(asked.members == [alice: 40])
            try await Self.earn(store, "A", seq: 2, card: alice, points: 2)
            #expect(
                try await Self.pullAll(store, ledger: "C.2", since: asked.cursor, scope: .store).members == [alice: 42])
        }
    }

    /// `POST /v1/stores/{id}/asked-cards` from outside: every bad body gets a clear 4xx and changes nothing; a bank
    /// card number is refused without being echoed; only a signed store's own path is served.
    @Test(arguments: Driver.allCases)
    func askedCardsRefuseBadInputWithAClearError(_ driver: Driver) async throws {
        let alice = "2900000777774"
        try await Harness.withStore(driver) { store in
            for id in ["A", "B"] { try await store.addStore(id: id, secret: id, now: Self.now) }
            try await Self.earn(store, "A", seq: 1, card: alice, points: 40)
            try await Harness.withServer(store) { base in
                let path = "/v1/stores/B/asked-cards"
                func post(
                    _ json: String, store: String = "B", secret: String = "B", sign: Bool = true
                ) async throws
                    -> (status: Int, body: [String: Any])
                {
                    try await Harness.request(
                        base, method: .POST, path: path, body: Data(json.utf8), storeId: store, secret: secret,
                        sign: sign)
                }
                let cases: [(String, Int, String)] = [
                    ("{}", 400, "bad_json"), ("[]", 400, "bad_json"), (#"{"cards": []}"#, 400, "bad_cards"),
                    (#"{"cards": ["29\u0000"]}"#, 400, "bad_cards"), (#"{"cards": ["٢٩٠٠"]}"#, 400, "bad_cards"),
                    (#"{"cards": ["\#(String(repeating: "9", count: 65))"]}"#, 400, "bad_cards"),
                    (
                        "{\"cards\": [\(Array(repeating: "\"29\"", count: 101).joined(separator: ","))]}", 400,
                        "bad_cards"
                    ),
                    (#"{"cards": ["4111111111111111"]}"#, 400, "payment_card"),
                    (#"{"cards": "\#(String(repeating: "x", count: 20_000))"}"#, 413, "too_large"),
                ]
                for (index, (json, status, code)) in cases.enumerated() {
                    let answer = try await post(json)
                    #expect(
                        answer.status == status && answer.body["error"] as? String == code, "case \(index): \(answer)")
                    #expect(!"\(answer.body)".contains("4111111111111111"))
                }
                #expect(try await post(#"{"cards": ["\#(alice)"]}"#, sign: false).status == 401)
                #expect(try await post(#"{"cards": ["\#(alice)"]}"#, secret: "guess").status == 401)
                #expect(try await post(#"{"cards": ["\#(alice)"]}"#, store: "A", secret: "A").status == 403)
                #expect(try await Self.pullAll(store, ledger: "B", since: 0, scope: .store).members.isEmpty)
                let asked = try await post(#"{"cards": ["\#(alice)", "2900000123458"]}"#)
                #expect(asked.status == 200 && asked.body["known"] as? [String] == [alice], "\(asked)")
                #expect(try await Self.pullAll(store, ledger: "B", since: 0, scope: .store).members == [alice: 40])
            }
        }
    }

    /// Property: from any cursor, a store's pull with `store` scope brings exactly the chain scope's members that the
    /// store has served (an entry from one of its tills, on any card of the member, before or after a merge), with
    /// the same balances; random entries at three stores' tills, head-office adjustments and merges.
    @Test(arguments: Driver.allCases)
    func theStoreScopeIsTheChainScopeLimitedToTheMembersTheStoreServed(_ driver: Driver) async throws {
        let ledgers = ["A.1", "A.2", "B", "C.1"]
        let cards = (0..<8).map { GTIN.withCheckDigit(String(format: "29000%07d", $0 * 37 + 11)) }
        for seed in UInt64(1)...6 {
            var random = SeededRandom(seed: seed)
            try await Harness.withStore(driver) { store in
                for id in ledgers { try await store.addStore(id: id, secret: id, now: Self.now) }
                var seqs: [String: Int64] = [:]
                /// The oracle's view: each known card's member (a set of cards), and the cards each store served.
                var memberOf: [String: Set<String>] = [:]
                var served: [String: Set<String>] = [:]
                var cursors: [String: Int64] = ["A": 0, "B": 0, "C": 0]
                for step in 0..<30 {
                    let choice = Int.random(in: 0..<10, using: &random)
                    if choice < 7 || memberOf.count < 2 {
                        let ledger = ledgers.randomElement(using: &random)!
                        let card = cards.randomElement(using: &random)!
                        seqs[ledger, default: 0] += 1
                        _ = try await store.ingest(
                            storeId: ledger,
                            batch: PushBatch(
                                entries: [
                                    Harness.entry(
                                        seqs[ledger]!, card: card, points: Int64.random(in: 1...50, using: &random))
                                ],
                                backlog: 0),
                            nonce: nil, now: Self.now)
                        if memberOf[card] == nil { memberOf[card] = [card] }
                        served[String(ledger.prefix(1)), default: []].insert(card)
                    } else if choice < 8 {
                        let card = memberOf.keys.sorted().randomElement(using: &random)!
                        let member = try #require(try await store.member(card: card, now: Self.now))
                        _ = try await store.issue(
                            [
                                IssuedEntryRequest(
                                    memberId: member.memberId, card: card, kind: .adjust, points: 2, reason: "goodwill",
                                    idempotencyKey: "seed \(seed) step \(step)",
                                    createdAtMilliseconds: 1_795_340_000_000)
                            ], actor: "ops", now: Self.now)
                    } else {
                        let known = memberOf.keys.sorted()
                        let keep = known.randomElement(using: &random)!
                        let other = known.randomElement(using: &random)!
                        guard memberOf[keep] != memberOf[other] else { continue }
                        try await store.mergeMembers(keep: keep, other: other, actor: "ops", reason: nil, now: Self.now)
                        let joined = memberOf[keep]!.union(memberOf[other]!)
                        for card in joined { memberOf[card] = joined }
                    }
                    guard step % 5 == 4 else { continue }
                    for (storeName, ledger) in [("A", "A.2"), ("B", "B"), ("C", "C.1")] {
                        let cursor = cursors[storeName]!
                        let scoped = try await Self.pullAll(store, ledger: ledger, since: cursor, scope: .store)
                        let chain = try await Self.pullAll(store, ledger: ledger, since: cursor, scope: .chain)
                        let servedCards = served[storeName, default: []]
                        let expected = chain.members.filter { card, _ in
                            memberOf[card, default: [card]].contains { servedCards.contains($0) }
                        }
                        #expect(
                            scoped.members == expected,
                            "seed \(seed) step \(step) \(driver): store \(storeName) pulled \(scoped.members), chain less others \(expected)"
                        )
                        cursors[storeName] = scoped.cursor
                    }
                }
            }
        }
    }
}
