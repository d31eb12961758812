import AsyncHTTPClient
import Foundation
import LedgerStore
import LoyaltyCore
import NIOCore
import NIOHTTP1
import PostgresNIO
import SyncClient
import SyncProtocol
import TestSupport
import Testing

@testable import HeadOffice

/// Defects found by review, each with the test that failed before its fix: hostile numbers from the
/// wire, repeated seqs that loaded a store's history, bank card numbers at head office, a restored
/// head office hiding blocked cards, and PostgreSQL deadlocks between stores and blocks.
@Suite struct HardeningTests {
    let secret = "s3cret-for-store-A"

    /// Head office answers 4xx to extreme numbers (unsigned or signed) and keeps serving.
    @Test(arguments: Driver.allCases)
    func extremeNumbersFromTheWireGet4xxAndHeadOfficeKeepsServing(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: secret, now: Date())
            try await Harness.withServer(store) { base in
                let path = "/v1/stores/A/batches"
                let body = Harness.json(PushBatch(entries: [Harness.entry(1)], backlog: 0))
                for timestamp in ["-9223372036854775808", "9223372036854775807", "99999999999999999999", "-1", "1e9", ""] {
                    let answer = try await Harness.request(
                        base, method: .POST, path: path, body: body, storeId: "A", secret: secret, sign: false,
                        extraHeaders: [
                            (RequestSigning.storeHeader, "A"), (RequestSigning.timestampHeader, timestamp),
                            (RequestSigning.nonceHeader, "n"), (RequestSigning.signatureHeader, "00"),
                        ])
                    #expect(answer.status == 401, "timestamp \(timestamp): \(answer)")
                }
                // Signed by the store, but out of range: Int64.min through abs() trapped; a rule
                // version beyond 32 bits overflowed PostgreSQL's INTEGER (a 503 on every retry).
                var hostile: [SyncEntry] = []
                for change in 0..<7 {
                    var entry = Harness.entry(1)
                    switch change {
                    case 0: entry.points = .min
                    case 1: entry.amountMinor = .min
                    case 2: entry.ruleVersion = Int(Int32.max) + 1
                    case 3: entry.ruleVersion = .max
                    // Found by attack: a time of Int64.max trapped head office, then at every ingest of its member.
                    case 4: entry.createdAtMilliseconds = .max
                    case 5: entry.createdAtMilliseconds = SyncEntry.latestMilliseconds + 1
                    default: entry.kind = "redeem"; entry.points = .min; entry.amountMinor = 0
                    }
                    hostile.append(entry)
                }
                for entry in hostile {
                    let answer = try await Harness.request(
                        base, method: .POST, path: path, body: Harness.json(PushBatch(entries: [entry], backlog: 0)), storeId: "A",
                        secret: secret)
                    #expect(answer.status == 400 && answer.body["error"] as? String == "invalid_entry", "\(answer)")
                }
                let cursor = try await Harness.request(
                    base, method: .GET, path: "/v1/stores/A/updates?since=9223372036854775807&acknowledged=9223372036854775807",
                    storeId: "A", secret: secret)
                #expect(cursor.status == 200, "\(cursor)")
                #expect(try await store.totals().isEmpty, "a refused request changed the ledger")
                // Still alive and still correct.
                let good = try await Harness.request(base, method: .POST, path: path, body: body, storeId: "A", secret: secret)
                #expect(good.status == 200 && good.body["acknowledged_seq"] as? Int == 1)
            }
        }
    }

    /// Random, unsigned signing headers against a live head office: always a 4xx, never a crash.
    @Test(arguments: Driver.allCases)
    func fuzzedSigningHeadersAreRefusedAndHeadOfficeStaysUp(_ driver: Driver) async throws {
        let seed = TestSeed.make("header fuzz \(driver)", fallback: 20_261_123)
        var random = SeededRandom(seed: seed)
        let pieces = [
            "", "0", "-1", "9223372036854775807", "-9223372036854775808", "18446744073709551616", "1e3", " 1", "0x10",
            String(Int64(Date().timeIntervalSince1970)), "A", "B", "../A", "A\u{0}", String(repeating: "9", count: 300),
            String(repeating: "n", count: 65), String(repeating: "x", count: 10_240), "%00", "ff", String(repeating: "0", count: 64),
        ]
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: secret, now: Date())
            try await Harness.withServer(store) { base in
                for round in 0..<150 {
                    var headers: [(String, String)] = []
                    for name in [RequestSigning.storeHeader, RequestSigning.timestampHeader, RequestSigning.nonceHeader, RequestSigning.signatureHeader]
                    where Int.random(in: 0..<8, using: &random) > 0 {
                        var value = pieces.randomElement(using: &random)!
                        if Bool.random(using: &random) { value += pieces.randomElement(using: &random)! }
                        headers.append((name, value.filter { $0 != "\u{0}" && $0 != "\n" && $0 != "\r" }))
                    }
                    let pull = round % 2 == 0
                    let answer = try await Harness.request(
                        base, method: pull ? .GET : .POST, path: pull ? "/v1/stores/A/updates?since=0" : "/v1/stores/A/batches",
                        body: pull ? Data() : Harness.json(PushBatch(entries: [Harness.entry(1)], backlog: 0)), storeId: "A",
                        secret: secret, sign: false, extraHeaders: headers)
                    #expect((400..<500).contains(answer.status), "seed \(seed) round \(round): \(headers) → \(answer.status)")
                }
                let health = try await HTTPClient.shared.execute(HTTPClientRequest(url: base.absoluteString + "/v1/health"), timeout: .seconds(10))
                #expect(health.status.code == 200)
                #expect(try await store.totals().isEmpty)
            }
        }
    }

    /// A batch repeating seq 1 and the last acknowledged seq reads those two entries, not the history.
    @Test(arguments: Driver.allCases)
    func repeatedSeqsAreFetchedExactlyNotAsARange(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "s", now: Date())
            _ = try await store.ingest(storeId: "A", batch: PushBatch(entries: (1...300).map { Harness.entry($0) }, backlog: 0), nonce: nil, now: Date())
            let fetched: [Int64: SyncEntry]
            switch store {
            case let sqlite as SQLiteHeadOfficeStore: fetched = try await sqlite.storedEntries(storeId: "A", seqs: [1, 300])
            case let postgres as PostgresHeadOfficeStore: fetched = try await postgres.storedEntries(storeId: "A", seqs: [1, 300])
            default: fetched = [:]
            }
            #expect(fetched.keys.sorted() == [1, 300])
            let again = try await store.ingest(
                storeId: "A", batch: PushBatch(entries: [Harness.entry(1), Harness.entry(300), Harness.entry(301)], backlog: 0), nonce: nil,
                now: Date())
            #expect(again == PushResult(acknowledgedSeq: 301, accepted: 1, duplicates: 2, expectedSeq: nil))
        }
    }

    /// Head office never stores a bank card number: not from a store's batch, not from `cards block`.
    @Test(arguments: Driver.allCases)
    func bankCardNumbersAreRefusedAtHeadOffice(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "s", now: Date())
            for pan in ["4111111111111111", "5555555555554444", "378282246310005"] {
                do {
                    _ = try await store.ingest(
                        storeId: "A", batch: PushBatch(entries: [Harness.entry(1, card: pan)], backlog: 0), nonce: nil, now: Date())
                    Issue.record("a batch with a bank card was stored")
                } catch let refusal as IngestRefusal {
                    #expect(refusal.kind == .invalid && !refusal.message.contains(pan.suffix(8)))
                }
                await #expect(throws: IngestRefusal.self) { try await store.blockCard(pan, now: Date()) }
            }
            #expect(try await store.totals().isEmpty)
            let page = try await store.updates(storeId: "A", since: 0, now: Date())
            #expect(page.members.isEmpty && page.blockedCards.isEmpty)
        }
    }

    /// Defect: head office stored an entry's id, reason and coupon code holding a bank card number, and
    /// receipts and names holding one written with dots, slashes, two-digit groups or full-width digits.
    /// Every free-text field goes through one check; the refusal never repeats the number.
    @Test(arguments: Driver.allCases)
    func bankCardNumbersInAnyFreeTextFieldAreRefusedAtHeadOffice(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "s", now: Date())
            let spellings = [
                "4111111111111111", "4111.1111.1111.1111", "4111/1111/1111/1111", "41-11-11-11-11-11-11-11",
                "41 11 11 11 11 11 11 11", "４１１１１１１１１１１１１１１１",
            ]
            var entries: [(String, SyncEntry)] = []
            for spelling in spellings {
                var receipt = Harness.entry(1)
                receipt.receipt = "R " + spelling
                var name = Harness.entry(1, kind: "enroll", points: 0)
                name.memberName = "Ana " + spelling
                entries += [("receipt", receipt), ("member_name", name)]
            }
            var id = Harness.entry(1)
            id.id = "4111111111111111"
            var reason = Harness.entry(1)
            reason.reason = "refund 4111111111111111"
            var coupon = Harness.entry(1, kind: "coupon", points: 0)
            coupon.couponCode = "WELCOME-4111111111111111"
            coupon.reason = "issued"
            entries += [("id", id), ("reason", reason), ("coupon_code", coupon)]
            for (field, entry) in entries {
                do {
                    _ = try await store.ingest(storeId: "A", batch: PushBatch(entries: [entry], backlog: 0), nonce: nil, now: Date())
                    Issue.record("an entry with a bank card number in its \(field) was stored")
                } catch let refusal as IngestRefusal {
                    #expect(
                        refusal.kind == .invalid && refusal.message.contains("\(field) holds a bank card number"),
                        "\(refusal.message)")
                    #expect(!refusal.message.contains("1111"), "the refusal never repeats the number")
                }
            }
            #expect(try await store.totals().isEmpty)
        }
    }

    /// Head office restored from a backup: a store whose cursor is ahead of it still sees a card
    /// blocked after the restore — whether the restored counter is below its cursor or already past it.
    @Test(arguments: [false, true])
    func aStoreSeesCardsBlockedAfterHeadOfficeWasRestored(counterOvertakesCursor: Bool) async throws {
        let folder = TemporaryFolder()
        let card = try CardNumber("2900000777774")
        let other = try CardNumber("2900000123458")
        let store = try SQLiteHeadOfficeStore(path: folder.file("hq.db"))
        try await store.migrate()
        for id in ["A", "B"] { try await store.addStore(id: id, secret: "s\(id)", now: Date()) }
        let a = try LedgerDatabase(path: folder.file("A.db"), creating: .init(storeId: "A"))
        let b = try LedgerDatabase(path: folder.file("B.db"), creating: .init(storeId: "B"))
        func client(_ ledger: LedgerDatabase, _ id: String, _ base: URL) -> SyncClient {
            SyncClient(ledger: ledger, settings: SyncSettings(headOfficeURL: base, storeId: id, secret: "s\(id)"))
        }
        for member in [card, other] { _ = try a.enroll(card: member, name: nil, birthday: nil) }
        try await Harness.withServer(store) { base in
            _ = try a.award(card: card, amount: Money(minorUnits: 1000, currency: .euro), receipt: ReceiptReference("A1"))
            _ = try await client(a, "A", base).syncOnce()
            _ = try await client(b, "B", base).syncOnce()
        }
        try store.backup(to: folder.file("backup.db"))
        // After the backup: more sales at A, more changes pulled by B (its cursor moves on).
        try await Harness.withServer(store) { base in
            for index in 2...4 {
                _ = try a.award(card: other, amount: Money(minorUnits: 500, currency: .euro), receipt: ReceiptReference("A\(index)"))
                _ = try await client(a, "A", base).syncOnce()
            }
            _ = try await client(b, "B", base).syncOnce()
        }
        let cursorBefore = try b.syncPosition().cursor
        // Disaster: head office comes back from the backup.
        let restored = try SQLiteHeadOfficeStore(path: folder.file("backup.db"))
        try await restored.migrate()
        // The block's change number is at or below B's old cursor: without the epoch, B skips it.
        try await restored.blockCard(card.value, now: Date())
        if counterOvertakesCursor {
            for index in 0..<8 { try await restored.blockCard(GTIN.withCheckDigit("29000005000\(index)"), now: Date()) }
        }
        try await Harness.withServer(restored) { base in
            // A (which lost entries at head office) syncs first in one case, B alone in the other.
            if counterOvertakesCursor { _ = try await client(a, "A", base).syncOnce() }
            _ = try await client(b, "B", base).syncOnce()
            #expect(try b.lookup(card: card)?.cardStatus == "blocked", "cursor was \(cursorBefore)")
            #expect(throws: LoyaltyError.self) {
                try b.award(card: card, amount: Money(minorUnits: 500, currency: .euro), receipt: ReceiptReference("B1"))
            }
            _ = try await client(a, "A", base).syncOnce()
            _ = try await client(a, "A", base).syncOnce()
            #expect(try a.lookup(card: card)?.cardStatus == "blocked")
            // Two enrolments and four sales.
            #expect(try await restored.totals() == [StoreTotal(storeId: "A", entries: 6, points: 25)])
        }
    }

    /// Found by review: after head office came back from a backup, it wrote its corrections again (new
    /// ids) and the tills listed each twice with the member (the balance was right). A new epoch replaces
    /// what a till holds of head office's entries with what head office holds now.
    @Test func aTillListsHeadOfficesCorrectionsOnceAfterARestore() async throws {
        let folder = TemporaryFolder()
        let card = try CardNumber("2900000777774")
        let store = try SQLiteHeadOfficeStore(path: folder.file("hq.db"))
        try await store.migrate()
        for id in ["A", "B"] { try await store.addStore(id: id, secret: "s\(id)", now: Date()) }
        _ = try await store.publishProgram(try ExpiryAndReferralTests.program(enrolment: 10), actor: "test", now: Date())
        try store.backup(to: folder.file("backup.db"))
        let a = try LedgerDatabase(path: folder.file("A.db"), creating: .init(storeId: "A"))
        let b = try LedgerDatabase(path: folder.file("B.db"), creating: .init(storeId: "B"))
        func client(_ ledger: LedgerDatabase, _ id: String, _ base: URL) -> SyncClient {
            SyncClient(ledger: ledger, settings: SyncSettings(headOfficeURL: base, storeId: id, secret: "s\(id)"))
        }
        try await Harness.withServer(store) { base in
            for (ledger, id) in [(a, "A"), (b, "B")] { _ = try await client(ledger, id, base).syncOnce() }
            // Both tills enrol the card offline: head office takes one enrolment bonus back.
            for ledger in [a, b] { _ = try ledger.enroll(card: card, name: nil, birthday: nil) }
            for (ledger, id) in [(a, "A"), (b, "B"), (a, "A")] { _ = try await client(ledger, id, base).syncOnce() }
            #expect(try a.member(card: card).headOfficeEntries.map(\.points) == [-10])
        }
        // Head office comes back from the backup: the tills resend, it corrects again under a new id.
        let restored = try SQLiteHeadOfficeStore(path: folder.file("backup.db"))
        try await restored.migrate()
        try await Harness.withServer(restored) { base in
            // Each resends what the restore lost in its first sync, then pulls what head office decided.
            for (ledger, id) in [(a, "A"), (b, "B"), (a, "A")] { _ = try await client(ledger, id, base).syncOnce() }
            #expect(try await restored.member(card: card.value, now: Date())?.balance == 10)
            for ledger in [a, b] {
                let member = try ledger.member(card: card)
                #expect(member.balance == 10 && member.headOfficeEntries.map(\.points) == [-10], "\(member.headOfficeEntries)")
            }
        }
    }

    /// An operator's `epoch rotate` makes every store pull from zero.
    @Test(arguments: Driver.allCases)
    func rotatingTheEpochMakesStoresPullEverythingAgain(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "s", now: Date())
            _ = try await store.ingest(storeId: "A", batch: PushBatch(entries: [Harness.entry(1)], backlog: 0), nonce: nil, now: Date())
            let first = try await store.updates(storeId: "A", since: 0, now: Date())
            let epoch = try await store.epoch()
            #expect(first.members.count == 1 && first.epoch == epoch)
            let rotated = try await store.rotateEpoch(now: Date())
            #expect(rotated != first.epoch)
            let after = try await store.updates(storeId: "A", since: first.cursor, now: Date())
            #expect(after.epoch == rotated && after.members.isEmpty)
            // A store ahead of head office's mark is evidence of a restore: a new epoch, once.
            let evidence = try await store.updates(storeId: "A", since: 0, storeAcknowledged: 7, now: Date().addingTimeInterval(3600))
            #expect(evidence.epoch != rotated)
            let again = try await store.updates(storeId: "A", since: 0, storeAcknowledged: 7, now: Date().addingTimeInterval(3700))
            #expect(again.epoch == evidence.epoch, "one restore, one rotation")
            // Found by attack: nothing said why the chain's epoch changed; the audit trail names the store.
            let rotations = try await store.auditTrail().filter { $0.action == "epoch rotate" }
            #expect(rotations.map(\.actor) == ["store A"] && rotations.first?.detail.contains("backup") == true)
        }
    }

    /// Defect: any store could start a new epoch for the whole chain with a signed pull whose cursor lay
    /// beyond head office's counter, making every store pull everything again. Such a cursor is only that
    /// store's word: it gets the pull from zero, the chain's epoch stays.
    @Test(arguments: Driver.allCases)
    func aCursorBeyondTheCounterDoesNotRotateTheChainsEpoch(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            for id in ["A", "B"] { try await store.addStore(id: id, secret: "s", now: Date()) }
            _ = try await store.ingest(storeId: "A", batch: PushBatch(entries: [Harness.entry(1)], backlog: 0), nonce: nil, now: Date())
            let epoch = try await store.epoch()
            let forged = try await store.updates(
                storeId: "B", since: 1_000_000_000, storeAcknowledged: 0, now: Date().addingTimeInterval(3600))
            #expect(forged.epoch == epoch, "the chain's epoch stays")
            #expect(try await store.epoch() == epoch)
            #expect(forged.members.count == 1 && forged.cursor < 1_000_000_000, "store B pulls from zero: \(forged.cursor)")
            let other = try await store.updates(storeId: "A", since: forged.cursor, now: Date().addingTimeInterval(3600))
            #expect(other.epoch == epoch && other.members.isEmpty, "store A keeps its place")
        }
    }

    /// Stores meeting the same new cards in opposite orders while head office blocks some of them:
    /// no deadlock, no error, no orphan member, every balance right.
    @Test(arguments: Driver.allCases)
    func concurrentStoresSharingNewCardsAndBlocksNeverDeadlock(_ driver: Driver) async throws {
        let seed = TestSeed.make("lock order \(driver)", fallback: 11)
        try await Harness.withStore(driver) { store in
            let stores = (1...6).map { "S\($0)" }
            for id in stores { try await store.addStore(id: id, secret: id, now: Date()) }
            let rounds = 6
            let cards = (0..<rounds).map { round in (0..<12).map { GTIN.withCheckDigit("2900007\(round)000\($0 + 10)") } }
            var random = SeededRandom(seed: seed)
            var plans: [String: [[String]]] = [:]
            for id in stores { plans[id] = cards.map { $0.shuffled(using: &random) } }
            let batches = plans
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in stores {
                    group.addTask {
                        for (round, order) in batches[id]!.enumerated() {
                            let entries = order.enumerated().map { index, card in
                                Harness.entry(Int64(round * order.count + index + 1), card: card, points: 1)
                            }
                            _ = try await store.ingest(storeId: id, batch: PushBatch(entries: entries, backlog: 0), nonce: nil, now: Date())
                        }
                    }
                }
                group.addTask {
                    for round in 0..<rounds {
                        for card in cards[round].reversed().prefix(4) { try await store.blockCard(card, now: Date()) }
                    }
                }
                try await group.waitForAll()
            }
            for card in cards.joined() {
                let member = try #require(try await store.member(card: card, now: Date()))
                #expect(member.balance == Int64(stores.count), "\(card)")
                #expect(member.cards == [card])
            }
            if let postgres = store as? PostgresHeadOfficeStore {
                let rows = try await postgres.client.query(
                    "SELECT COUNT(*) FROM hq_members m WHERE NOT EXISTS (SELECT 1 FROM hq_cards c WHERE c.member_id = m.id)",
                    logger: Harness.logger)
                for try await orphans in rows.decode(Int64.self) { #expect(orphans == 0, "orphan member rows") }
            }
            let blocked = try await store.updates(storeId: "S1", since: 0, now: Date()).blockedCards
            #expect(blocked.count == rounds * 4)
        }
    }

    /// The agent's own ids and refund reasons (UUIDs, drawn at random by older tills) never trip the
    /// bank-card check: a false match would refuse the store's stream for ever.
    @Test func agentGeneratedIdsAndReasonsAreNeverMistakenForBankCards() throws {
        for chunk in 0..<100 {
            let batch = (1...1_000).map { index -> SyncEntry in
                var entry = Harness.entry(Int64(index))
                entry.id = UUID().uuidString.lowercased()
                entry.reason = "refund \(UUID().uuidString.lowercased())"
                return entry
            }
            let plan = try IngestPlan.make(acknowledged: 0, batch: batch, stored: [:], receivedAt: 1_795_340_000_000)
            #expect(plan.newEntries.count == 1_000, "chunk \(chunk)")
        }
    }
}
