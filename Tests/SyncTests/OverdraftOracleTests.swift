import Foundation
import HeadOffice
import SyncProtocol
import TestSupport
import Testing

/// Overdrafts judged from a batch's earliest entry on (and from a head-office entry's time when it gives points or
/// expires them), from the member's balance less what came after, against an oracle that sums every entry up to each
/// redemption.
@Suite struct OverdraftOracleTests {
    static let cards = [MonthlyEntryPartitionsTests.alice, "2900000888880"]
    static let day = MonthlyEntryPartitionsTests.dayMilliseconds

    struct Event {
        var store: String
        var seq: Int64
        var entry: SyncEntry
    }

    /// Random sales and redemptions of two members at two stores over two years, one store's dated before the
    /// other's at random (tills offline), pushed in interleaved batches, and now and then head office's own entry
    /// counted in the past (found by attack: such a correction or expiry left a settled overdraft listed, or never
    /// listed a real one): after every write, `report overdrafts` lists exactly the redemptions after which the
    /// member's balance, counting every entry dated up to it wherever it was made, is below zero, with that balance,
    /// the receipt and the points.
    @Test(arguments: Driver.allCases)
    func overdraftsMatchTheBalanceAtEachRedemptionsTime(_ driver: Driver) async throws {
        for seed in UInt64(1)...6 {
            var random = SeededRandom(seed: seed)
            let start = Int64(Date().timeIntervalSince1970 * 1000) - 730 * Self.day
            var times = Set<Int64>()
            var events: [Event] = []
            var nextSeq = ["S": Int64(1), "T": Int64(1)]
            for _ in 0..<24 {
                var at: Int64
                repeat { at = start + Int64.random(in: 0..<(720 * Self.day), using: &random) } while times.contains(at)
                times.insert(at)
            }
            // Each till's own entries come in time order (head office counts one dated before the entry before it
            // from that entry's time, ``LedgerTimeFloor``); between the two stores, anything goes.
            var storeTimes = ["S": [Int64](), "T": [Int64]()]
            for at in times.shuffled(using: &random) { storeTimes[Bool.random(using: &random) ? "S" : "T"]!.append(at) }
            var order = storeTimes.flatMap { store, times in times.sorted().map { (store, $0) } }
            order.shuffle(using: &random)
            for store in ["S", "T"] {
                // The store's places in the order take its times oldest first.
                let sorted = storeTimes[store]!.sorted()
                var next = 0
                for index in order.indices where order[index].0 == store {
                    order[index].1 = sorted[next]
                    next += 1
                }
            }
            for (store, at) in order {
                let card = Self.cards[Int.random(in: 0..<2, using: &random)]
                let redeem = Int.random(in: 0..<3, using: &random) == 0
                let seq = nextSeq[store]!
                nextSeq[store] = seq + 1
                var entry = Harness.entry(
                    seq, card: card, kind: redeem ? "redeem" : "earn",
                    points: redeem
                        ? -Int64.random(in: 5...40, using: &random) : Int64.random(in: 5...30, using: &random),
                    at: at)
                entry.id = "\(store):\(seq)"
                entry.receipt = "\(store)-R\(seq)"
                events.append(Event(store: store, seq: seq, entry: entry))
            }
            try await Harness.withStore(driver) { store in
                for id in ["S", "T"] { try await store.addStore(id: id, secret: id, now: Date()) }
                var queues = ["S": events.filter { $0.store == "S" }, "T": events.filter { $0.store == "T" }]
                var pushed: [Event] = []
                while queues.values.contains(where: { !$0.isEmpty }) {
                    let id = queues.keys.sorted().filter { !queues[$0]!.isEmpty }.randomElement(using: &random)!
                    let count = min(Int.random(in: 1...4, using: &random), queues[id]!.count)
                    let batch = Array(queues[id]!.prefix(count))
                    queues[id]!.removeFirst(count)
                    _ = try await store.ingest(
                        storeId: id, batch: PushBatch(entries: batch.map(\.entry), backlog: 0), nonce: nil, now: Date())
                    pushed += batch
                    // Now and then head office's own entry, counted at a time before (a bonus paid at its sale, an
                    // expiry at the end of its day), for a member it knows.
                    if Int.random(in: 0..<3, using: &random) == 0,
                        let card = Set(pushed.map(\.entry.card)).sorted().randomElement(using: &random),
                        let member = try await store.member(card: card, now: Date())
                    {
                        let at = start + Int64.random(in: 0..<(720 * Self.day), using: &random)
                        // Points given (a missing bonus paid) or lapsed (an expiry); points head office takes back
                        // are a correction's, not a redemption's overdraft (TillClockTests).
                        let lapsed = Bool.random(using: &random)
                        let points = (lapsed ? -1 : 1) * Int64.random(in: 5...30, using: &random)
                        let key = "test:\(pushed.count)"
                        _ = try await store.issue(
                            [
                                IssuedEntryRequest(
                                    memberId: member.memberId, card: card, kind: lapsed ? .expire : .adjust,
                                    points: points, reason: "test", idempotencyKey: key, createdAtMilliseconds: at + 1,
                                    countsAtMilliseconds: at)
                            ], actor: "test", now: Date())
                        var entry = Harness.entry(0, card: card, kind: "adjust", points: points, at: at)
                        entry.id = key
                        pushed.append(Event(store: "", seq: 0, entry: entry))
                    }
                    let listed = try await store.overdrafts().map {
                        "\($0.storeId):\($0.seq) \($0.receipt) \($0.points) after \($0.balanceAfter)"
                            + " at \($0.atMilliseconds)"
                    }
                    #expect(listed == Self.oracle(pushed), "seed \(seed), after \(pushed.count) entries")
                }
            }
        }
    }

    /// The redemptions after which the member's balance, every entry dated up to it, is below zero, oldest first.
    static func oracle(_ events: [Event]) -> [String] {
        events.filter { $0.entry.kind == "redeem" && !$0.store.isEmpty }.compactMap { redemption -> (Int64, String)? in
            let at = redemption.entry.createdAtMilliseconds
            let balance = events.filter {
                $0.entry.card == redemption.entry.card && $0.entry.createdAtMilliseconds <= at
            }
            .reduce(Int64(0)) { $0 + $1.entry.points }
            guard balance < 0 else { return nil }
            return (
                at,
                "\(redemption.store):\(redemption.seq) \(redemption.entry.receipt) \(redemption.entry.points) after "
                    + "\(balance) at \(at)"
            )
        }.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
