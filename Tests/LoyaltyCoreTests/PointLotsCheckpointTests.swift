import TestSupport
import Testing

@testable import LoyaltyCore

/// Kept lots (what head office writes down at an expiry run and starts the next one from): restoring them and
/// applying the rest of a history gives exactly what replaying the whole history gives, whatever the history.
@Suite struct PointLotsCheckpointTests {
    static let day: Int64 = 86_400_000
    static let lifetime = 90 * day

    /// A random history over about two years, in time order, with everything that touches lots: sales, refunds of
    /// sales (partial, before and after their points lapse), redemptions (sometimes beyond the balance, as two
    /// offline tills can), refunds of redemptions (points back into their lots), bonuses, and expiry runs with the
    /// entries head office writes (points expired, points given back).
    static func history(_ random: inout SeededRandom) -> [PointEvent] {
        var lots = PointLots(lifetimeMilliseconds: lifetime)
        var events: [PointEvent] = []
        var sales: [(key: String, points: Int64)] = []
        var redemptions: [(key: String, points: Int64)] = []
        var time: Int64 = 0
        func add(_ event: PointEvent) {
            events.append(event)
            lots.apply(event)
        }
        for index in 0..<Int.random(in: 10...60, using: &random) {
            time += Int64.random(in: 0...30, using: &random) * day + Int64.random(in: 0...3, using: &random)
            let key = "S:\(index)"
            switch Int.random(in: 0..<12, using: &random) {
            case 0..<4:
                let points = Int64.random(in: 1...500, using: &random)
                sales.append((key, points))
                add(PointEvent(key: key, kind: .earn, points: points, atMilliseconds: time))
            case 4..<6 where !sales.isEmpty:
                let pick = Int.random(in: 0..<sales.count, using: &random)
                guard sales[pick].points > 0 else { continue }
                let points = Int64.random(in: 1...sales[pick].points, using: &random)
                sales[pick].points -= points
                add(
                    PointEvent(
                        key: key, kind: .reverse, points: -points, atMilliseconds: time, refersTo: sales[pick].key))
            case 6..<8:
                let points = Int64.random(in: 1...max(1, lots.balance + 50), using: &random)
                redemptions.append((key, points))
                add(PointEvent(key: key, kind: .redeem, points: -points, atMilliseconds: time))
            case 8 where !redemptions.isEmpty:
                let pick = Int.random(in: 0..<redemptions.count, using: &random)
                guard redemptions[pick].points > 0 else { continue }
                let points = Int64.random(in: 1...redemptions[pick].points, using: &random)
                redemptions[pick].points -= points
                add(
                    PointEvent(
                        key: key, kind: .reverse, points: points, atMilliseconds: time, refersTo: redemptions[pick].key)
                )
            case 9:
                add(
                    PointEvent(
                        key: "hq:\(index)", kind: .bonus, points: Int64.random(in: 1...100, using: &random),
                        atMilliseconds: time))
            default:
                // An expiry run, as head office writes it.
                let back = lots.owedBack
                let due = lots.dueForExpiry(atMilliseconds: time)
                if back > 0 {
                    add(PointEvent(key: "hq:\(index):back", kind: .expire, points: back, atMilliseconds: time))
                }
                if due > 0 {
                    add(PointEvent(key: "hq:\(index):due", kind: .expire, points: -due, atMilliseconds: time))
                }
            }
        }
        return events
    }

    /// What a report or a run reads from lots.
    struct Reading: Equatable {
        var balance: Int64
        var debt: Int64
        var owedBack: Int64
        var due: [Int64]
        var expiring: [[Int64]]
    }

    static func read(_ lots: PointLots, end: Int64) -> Reading {
        let moments = stride(from: Int64(0), through: end + lifetime, by: Int(17 * day)).map { $0 }
        return Reading(
            balance: lots.balance, debt: lots.debt, owedBack: lots.owedBack,
            due: moments.map { lots.dueForExpiry(atMilliseconds: $0) },
            expiring: moments.map { moment in
                lots.expiring(after: moment, until: moment + 30 * day).flatMap {
                    [$0.expiresAtMilliseconds, $0.points]
                }
            })
    }

    @Test func keptLotsRestoredAndContinuedEqualTheWholeHistoryReplayed() throws {
        let seed = TestSeed.make("keptLots")
        var random = SeededRandom(seed: seed)
        var resumedEvents = 0
        var wholeHistoriesRead = 0
        for round in 0..<400 {
            let events = Self.history(&random)
            var whole = PointLots(lifetimeMilliseconds: Self.lifetime)
            for event in events { whole.apply(event) }
            // Written down and read back at up to three random places along the way, as successive runs would,
            // leaving out what was spent or redeemed more than 0–120 days before.
            var resumed = PointLots(lifetimeMilliseconds: Self.lifetime)
            var fromKeptLots = false
            let cuts = Set((0..<3).map { _ in Int.random(in: 0...events.count, using: &random) })
            for (index, event) in events.enumerated() {
                if cuts.contains(index) {
                    let moment = index == 0 ? 0 : events[index - 1].atMilliseconds
                    let since = moment - Int64.random(in: 0...120, using: &random) * Self.day
                    resumed = try #require(
                        PointLots(
                            lifetimeMilliseconds: Self.lifetime,
                            checkpointBytes: resumed.checkpointBytes(keepingSince: since)),
                        "seed \(seed) round \(round)")
                    fromKeptLots = true
                }
                if fromKeptLots && !resumed.canApplyToKeptLots(event) {
                    // As head office does: the member's whole history instead.
                    resumed = PointLots(lifetimeMilliseconds: Self.lifetime)
                    for earlier in events[..<index] { resumed.apply(earlier) }
                    fromKeptLots = false
                    wholeHistoriesRead += 1
                }
                if fromKeptLots { resumedEvents += 1 }
                resumed.apply(event)
            }
            let end = events.last?.atMilliseconds ?? 0
            #expect(Self.read(resumed, end: end) == Self.read(whole, end: end), "seed \(seed) round \(round)")
            #expect(
                resumed.checkpointBytes(keepingSince: end) == whole.checkpointBytes(keepingSince: end),
                "seed \(seed) round \(round)")
        }
        // Both ways are exercised: events taken on kept lots, and refunds of what they left out.
        #expect(resumedEvents > 1_000 && wholeHistoriesRead > 0, "\(resumedEvents) / \(wholeHistoriesRead)")
    }

    @Test func spentLotsAreNotKeptSoKeptLotsStaySmall() {
        var lots = PointLots(lifetimeMilliseconds: Self.lifetime)
        for index in 0..<1_000 {
            lots.apply(PointEvent(key: "S:\(index)", kind: .earn, points: 10, atMilliseconds: Int64(index) * Self.day))
            lots.apply(
                PointEvent(
                    key: "S:\(index)r", kind: .reverse, points: -10, atMilliseconds: Int64(index) * Self.day,
                    refersTo: "S:\(index)"))
        }
        lots.apply(PointEvent(key: "S:last", kind: .earn, points: 7, atMilliseconds: 1_000 * Self.day))
        let bytes = lots.checkpointBytes(keepingSince: 900 * Self.day)
        #expect(bytes.count < 40 * 100, "the lots of 100 days are kept of 1,000: \(bytes.count) bytes")
        #expect(lots.checkpointBytes(keepingSince: 1_000 * Self.day).count < 40, "one lot of a thousand")
        #expect(PointLots(lifetimeMilliseconds: Self.lifetime, checkpointBytes: bytes)?.balance == 7)
    }

    @Test func damagedBytesAreRefusedNeverTrusted() {
        let seed = TestSeed.make("keptLotsDamaged")
        var random = SeededRandom(seed: seed)
        var refused = 0
        for _ in 0..<300 {
            var lots = PointLots(lifetimeMilliseconds: Self.lifetime)
            for event in Self.history(&random) { lots.apply(event) }
            var bytes = lots.checkpointBytes()
            if Bool.random(using: &random) {
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &random)))
            } else {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
            }
            // Never a crash, never damaged lots taken for kept ones (they carry their hash).
            if PointLots(lifetimeMilliseconds: Self.lifetime, checkpointBytes: bytes) == nil { refused += 1 }
        }
        #expect(refused == 300, "seed \(seed): every damaged row is refused (\(refused) of 300)")
        #expect(PointLots(lifetimeMilliseconds: Self.lifetime, checkpointBytes: []) == nil)
        #expect(
            PointLots(lifetimeMilliseconds: Self.lifetime, checkpointBytes: [2, 0, 0, 0, 0, 0]) == nil,
            "unknown version")
    }

    /// Bytes that carry a right hash but were never lots (a bug elsewhere, a hand-made row): read without a crash, and
    /// whatever is taken adds up to its balance.
    @Test func arbitraryBytesWithARightHashNeverCrashTheReader() {
        let seed = TestSeed.make("keptLotsArbitrary")
        var random = SeededRandom(seed: seed)
        for round in 0..<2_000 {
            var writer = CheckpointWriter()
            writer.byte(1)
            for _ in 0..<Int.random(in: 0...40, using: &random) {
                switch Int.random(in: 0..<3, using: &random) {
                case 0: writer.signed(Int64.random(in: -3...300, using: &random))
                case 1: writer.signed(Int64.random(in: .min ... .max, using: &random))
                default: writer.text("S:\(Int.random(in: 0...9, using: &random))")
                }
            }
            if let read = PointLots(lifetimeMilliseconds: Self.lifetime, checkpointBytes: writer.sealed()) {
                #expect(
                    read.balance == read.lots.reduce(0) { $0 + $1.remaining } - read.debt - read.owedBack,
                    "seed \(seed) round \(round)")
            }
        }
    }
}
