import Foundation
import HeadOffice
import SyncProtocol
import Testing

/// A lost card replaced at head office: the old card is blocked at every store after its next pull,
/// the new one carries the member's balance and history; bad replacements change nothing.
@Suite struct CardReplacementTests {
    let old = "2900000777774"
    let new = "2900000123458"

    @Test(arguments: Driver.allCases)
    func aReplacedCardCarriesTheMemberAndTheOldOneIsBlocked(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            for id in ["A", "B"] { try await store.addStore(id: id, secret: id, now: Date()) }
            _ = try await store.ingest(
                storeId: "A", batch: PushBatch(entries: [Harness.entry(1, card: old, points: 40)], backlog: 0), nonce: nil, now: Date())
            let before = try await store.updates(storeId: "B", since: 0, now: Date())
            try await store.replaceCard(old, with: new, actor: "ops", reason: "lost at the beach", now: Date())

            let member = try #require(try await store.member(card: new, now: Date()))
            #expect(member.balance == 40 && Set(member.cards) == [old, new] && !member.blocked)
            #expect(try await store.member(card: old, now: Date())?.blocked == true)
            let page = try await store.updates(storeId: "B", since: before.cursor, now: Date())
            #expect(page.members.count == 1 && Set(page.members[0].cards) == [old, new] && page.members[0].balance == 40)
            #expect(page.blockedCards == [old])
            // The new card earns on the same member.
            _ = try await store.ingest(
                storeId: "B", batch: PushBatch(entries: [Harness.entry(1, card: new, points: 5)], backlog: 0), nonce: nil, now: Date())
            #expect(try await store.member(card: old, now: Date())?.balance == 45)

            // Bad replacements: each refused, nothing changes.
            for (from, to, kind) in [
                (old, new, IngestRefusal.Kind.cardInUse), ("2900000999990", "2900000555555", .unknownCard),
                (new, "4111111111111111", .invalid),
            ] {
                do {
                    try await store.replaceCard(from, with: to, actor: "ops", reason: nil, now: Date())
                    Issue.record("replacing \(from) with \(to) was accepted")
                } catch let refusal as IngestRefusal {
                    #expect(refusal.kind == kind && !refusal.message.contains("4111111111111111"))
                }
            }
            let audit = try await store.auditTrail()
            #expect(audit.count == 1 && audit[0].actor == "ops" && audit[0].reason == "lost at the beach")
            #expect(audit[0].action == "cards replace" && audit[0].detail.contains(old) && audit[0].detail.contains(new))
        }
    }
}

/// A card added to a member at a store (a phone barcode beside the plastic card) joins that member at
/// head office through the ledger stream.
@Suite struct AddedCardTests {
    func added(_ seq: Int64, card: String, joins: String) -> SyncEntry {
        var entry = Harness.entry(seq, card: card, kind: "enroll", points: 0, amount: 0)
        entry.joinsCard = joins
        return entry
    }

    @Test(arguments: Driver.allCases)
    func anAddedCardJoinsTheMemberEvenBeforeHeadOfficeKnewThem(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "A", now: Date())
            let (plastic, phone, other) = ("2900000777774", "PHONE1234", "2900000123458")
            let batch = PushBatch(
                entries: [
                    Harness.entry(1, card: plastic, kind: "enroll", points: 0, amount: 0), added(2, card: phone, joins: plastic),
                    Harness.entry(3, card: phone, points: 9),
                    // The member of `other` is not at head office yet: it is created, the card joins it.
                    added(4, card: "PHONE5678", joins: other), Harness.entry(5, card: other, points: 4),
                ], backlog: 0)
            #expect(try await store.ingest(storeId: "A", batch: batch, nonce: nil, now: Date()).accepted == 5)
            let member = try #require(try await store.member(card: plastic, now: Date()))
            #expect(Set(member.cards) == [plastic, phone] && member.balance == 9)
            let second = try #require(try await store.member(card: "PHONE5678", now: Date()))
            #expect(Set(second.cards) == [other, "PHONE5678"] && second.balance == 4)
            #expect(try await store.ingest(storeId: "A", batch: batch, nonce: nil, now: Date()).duplicates == 5)
            var selfJoin = added(6, card: phone, joins: phone)
            selfJoin.seq = 6
            await #expect(throws: IngestRefusal.self) {
                try await store.ingest(storeId: "A", batch: PushBatch(entries: [selfJoin], backlog: 0), nonce: nil, now: Date())
            }
        }
    }
}

/// One person, two member records (the same card enrolled at two offline stores, or two cards):
/// merged at head office, nothing lost, the merged-away card keeps working, recorded in the audit.
@Suite struct MemberMergeTests {
    @Test(arguments: Driver.allCases)
    func mergingKeepsEveryEntryAndTheUnionOfBalances(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            for id in ["A", "B"] { try await store.addStore(id: id, secret: id, now: Date()) }
            let (keep, other) = ("2900000777774", "2900000123458")
            _ = try await store.ingest(
                storeId: "A", batch: PushBatch(entries: [Harness.entry(1, card: keep, points: 30)], backlog: 0), nonce: nil, now: Date())
            _ = try await store.ingest(
                storeId: "B",
                batch: PushBatch(
                    entries: [Harness.entry(1, card: other, points: 12), Harness.entry(2, card: other, kind: "redeem", points: -50)],
                    backlog: 0),
                nonce: nil, now: Date())
            let totalsBefore = try await store.totals()
            #expect(try await store.member(card: other, now: Date())?.overdrawn == true)
            let cursor = try await store.updates(storeId: "A", since: 0, now: Date()).cursor
            try await store.mergeMembers(keep: keep, other: other, actor: "ops", reason: "same person", now: Date())

            for card in [keep, other] {
                let member = try #require(try await store.member(card: card, now: Date()))
                #expect(member.balance == -8 && Set(member.cards) == [keep, other] && member.overdrawn, "\(card)")
                #expect(member.stores.map(\.storeId) == ["A", "B"] && member.stores.map(\.entries) == [1, 2])
            }
            #expect(try await store.totals() == totalsBefore, "every entry kept its store and seq")
            #expect(try await store.overdrafts().count == 1)
            let page = try await store.updates(storeId: "A", since: cursor, now: Date())
            #expect(page.members.count == 1 && Set(page.members[0].cards) == [keep, other] && page.members[0].balance == -8)
            // The merged-away card keeps earning on the kept member.
            _ = try await store.ingest(
                storeId: "B", batch: PushBatch(entries: [Harness.entry(3, card: other, points: 10)], backlog: 0), nonce: nil, now: Date())
            #expect(try await store.member(card: keep, now: Date())?.balance == 2)
            await #expect(throws: IngestRefusal.self) {
                try await store.mergeMembers(keep: keep, other: other, actor: "ops", reason: nil, now: Date())
            }
            await #expect(throws: IngestRefusal.self) {
                try await store.mergeMembers(keep: keep, other: "2900000999990", actor: "ops", reason: nil, now: Date())
            }
            let audit = try await store.auditTrail()
            #expect(audit.map(\.action) == ["members merge"] && audit[0].reason == "same person")
        }
    }
}
