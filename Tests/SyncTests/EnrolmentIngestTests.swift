import Foundation
import HeadOffice
import SyncProtocol
import Testing

/// Enrolments in the ledger stream at head office: the member is known with balance 0, the newest
/// profile wins, a resent enrolment is a duplicate, a changed one a conflict, a bad one a 4xx.
@Suite struct EnrolmentIngestTests {
    func enrolment(
        _ seq: Int64, card: String, name: String? = "Ana", birthday: String? = "1990-04-23", at: Int64 = 1_795_340_000_000
    ) -> SyncEntry {
        var entry = Harness.entry(seq, card: card, kind: "enroll", points: 0, amount: 0, at: at)
        entry.memberName = name
        entry.memberBirthday = birthday
        return entry
    }

    @Test(arguments: Driver.allCases)
    func enrolmentsMakeMembersKnownOnceAndTheNewestProfileWins(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            for id in ["A", "B"] { try await store.addStore(id: id, secret: id, now: Date()) }
            let card = "2900000777774"
            let first = PushBatch(entries: [enrolment(1, card: card)], backlog: 0)
            #expect(try await store.ingest(storeId: "A", batch: first, nonce: nil, now: Date()).accepted == 1)
            let member = try #require(try await store.member(card: card, now: Date()))
            #expect(member.balance == 0 && member.name == "Ana" && member.birthday == "1990-04-23" && member.enrolledStore == "A")
            // Resent as is: a duplicate. Changed: a conflict, nothing stored.
            #expect(try await store.ingest(storeId: "A", batch: first, nonce: nil, now: Date()).duplicates == 1)
            await #expect(throws: IngestRefusal.self) {
                try await store.ingest(
                    storeId: "A", batch: PushBatch(entries: [enrolment(1, card: card, name: "Eve")], backlog: 0), nonce: nil, now: Date())
            }
            // The same card enrolled offline at B too, later: one member enrolled at A (the earliest), the newer
            // name from B; the birthday B did not give stays.
            let second = PushBatch(
                entries: [
                    enrolment(1, card: card, name: "Ana L.", birthday: nil, at: 1_795_341_000_000),
                    Harness.entry(2, card: card, points: 7),
                ], backlog: 0)
            #expect(try await store.ingest(storeId: "B", batch: second, nonce: nil, now: Date()).accepted == 2)
            let merged = try #require(try await store.member(card: card, now: Date()))
            #expect(merged.balance == 7 && merged.name == "Ana L." && merged.enrolledStore == "A")
            // A profile change (at any store) wins over the enrolment's profile; the newest change wins.
            var change = Harness.entry(3, card: card, kind: "profile", points: 0, amount: 0, at: 1_795_342_000_000)
            change.memberName = "Ana Li"
            #expect(try await store.ingest(storeId: "B", batch: PushBatch(entries: [change], backlog: 0), nonce: nil, now: Date()).accepted == 1)
            #expect(try await store.member(card: card, now: Date())?.name == "Ana Li")
            #expect(try await store.member(card: card, now: Date())?.birthday == "1990-04-23")
            // Other stores learn the member from the pull.
            let page = try await store.updates(storeId: "B", since: 0, now: Date())
            #expect(page.members.map(\.card) == [card])
        }
    }

    @Test(arguments: Driver.allCases)
    func badEnrolmentsAreRefused(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "A", now: Date())
            var withPoints = enrolment(1, card: "2900000777774")
            withPoints.points = 5
            var profileOnASale = Harness.entry(1)
            profileOnASale.memberName = "Ana"
            for bad in [
                withPoints, profileOnASale, enrolment(1, card: "2900000777774", birthday: "1990-02-30"),
                enrolment(1, card: "2900000777774", name: "card 4111 1111 1111 1111"),
                enrolment(1, card: "2900000777774", name: String(repeating: "x", count: 101)),
            ] {
                await #expect(throws: IngestRefusal.self) {
                    try await store.ingest(storeId: "A", batch: PushBatch(entries: [bad], backlog: 0), nonce: nil, now: Date())
                }
            }
            #expect(try await store.totals().isEmpty)
        }
    }
}
