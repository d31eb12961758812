import TestSupport
import Testing

@testable import LoyaltyCore

/// Lots, expiry and refunds: random member histories of sales, partial refunds, redemptions and
/// bonuses, with head-office expiry runs in between, the way `loyalty-hq expire` runs them.
@Suite struct PointLotsTests {
    static let day: Int64 = 86_400_000
    static let lifetime = 365 * day

    /// Head office's expiry runs over events in arrival order: each run folds what has arrived (in
    /// time order, up to its moment) and appends what it gives back and what it expires.
    struct Chain {
        var arrived: [PointEvent] = []
        var runs = 0

        mutating func arrive(_ event: PointEvent) { arrived.append(event) }

        mutating func runExpiry(at moment: Int64) -> (givenBack: Int64, expired: Int64, lots: PointLots) {
            var lots = PointLots(lifetimeMilliseconds: PointLotsTests.lifetime)
            for event in arrived.enumerated().sorted(by: { ($0.element.atMilliseconds, $0.offset) < ($1.element.atMilliseconds, $1.offset) })
            where event.element.atMilliseconds <= moment {
                lots.apply(event.element)
            }
            let givenBack = lots.owedBack
            let due = lots.dueForExpiry(atMilliseconds: moment)
            runs += 1
            if givenBack > 0 { arrive(PointEvent(key: "hq:\(runs):back", kind: .expire, points: givenBack, atMilliseconds: moment)) }
            if due > 0 { arrive(PointEvent(key: "hq:\(runs):due", kind: .expire, points: -due, atMilliseconds: moment)) }
            return (givenBack, due, lots)
        }

        var balance: Int64 { arrived.reduce(0) { $0 + $1.points } }
    }

    /// A random history over two years: sales (with their points), partial refunds of earlier sales
    /// (pro rata, never more than the sale earned), redemptions within the balance, bonuses.
    static func history(_ random: inout SeededRandom) -> [PointEvent] {
        var events: [PointEvent] = []
        var sales: [(key: String, state: SaleRefundState)] = []
        var balance: Int64 = 0
        var time: Int64 = 0
        for index in 0..<Int.random(in: 5...40, using: &random) {
            time += Int64.random(in: 1...40, using: &random) * day
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<5:
                let amount = Int64.random(in: 100...50_000, using: &random)
                let points = amount / 100 * Int64.random(in: 1...3, using: &random)
                let key = "s:\(index)"
                sales.append((key, SaleRefundState(saleMinorUnits: amount, earnedPoints: points, redeemedPoints: 0)))
                events.append(PointEvent(key: key, kind: .earn, points: points, atMilliseconds: time))
                balance += points
            case 5..<7 where !sales.isEmpty:
                let pick = Int.random(in: 0..<sales.count, using: &random)
                let state = sales[pick].state
                guard !state.isFullyRefunded else { continue }
                let remaining = state.saleMinorUnits - state.refundedMinorUnits
                let plan = try! RefundPlan.plan(state, amountMinorUnits: Int64.random(in: 1...remaining, using: &random))
                sales[pick].state.refundedMinorUnits += plan.refundMinorUnits
                sales[pick].state.reversedEarnPoints += plan.reverseEarnPoints
                events.append(
                    PointEvent(
                        key: "s:\(index)", kind: .reverse, points: -plan.reverseEarnPoints, atMilliseconds: time, refersTo: sales[pick].key))
                balance -= plan.reverseEarnPoints
            case 7..<9 where balance > 0:
                let points = Int64.random(in: 1...balance, using: &random)
                events.append(PointEvent(key: "s:\(index)", kind: .redeem, points: -points, atMilliseconds: time))
                balance -= points
            default:
                let points = Int64.random(in: 1...500, using: &random)
                events.append(PointEvent(key: "s:\(index)", kind: .bonus, points: points, atMilliseconds: time))
                balance += points
            }
        }
        return events
    }

    @Test func expiryTakesOnlyLapsedUnspentPointsAndNeverGoesBelowZero() {
        let seed = TestSeed.make("expiryLots")
        var random = SeededRandom(seed: seed)
        for _ in 0..<2_000 {
            let events = Self.history(&random)
            var chain = Chain()
            let last = events.last?.atMilliseconds ?? 0
            var runAt = Int64.random(in: 0...(last + Self.lifetime), using: &random)
            for event in events {
                while runAt < event.atMilliseconds {
                    let before = chain.balance
                    let run = chain.runExpiry(at: runAt)
                    // Never below zero, never more than what lapsed and is left, never an unlapsed point.
                    #expect(run.expired <= max(0, before + run.givenBack), "seed \(seed)")
                    let lapsed = run.lots.lots.filter { $0.expiresAtMilliseconds <= runAt }.reduce(0) { $0 + $1.remaining }
                    #expect(run.expired <= lapsed, "seed \(seed)")
                    #expect(chain.balance >= min(0, before + run.givenBack), "seed \(seed)")
                    runAt += Int64.random(in: 30...400, using: &random) * Self.day
                }
                chain.arrive(event)
            }
            _ = chain.runExpiry(at: runAt)
            var lots = PointLots(lifetimeMilliseconds: Self.lifetime)
            for event in chain.arrived.sorted(by: { $0.atMilliseconds < $1.atMilliseconds }) { lots.apply(event) }
            #expect(lots.lots.allSatisfy { $0.remaining >= 0 && $0.expired >= 0 }, "no lot is ever negative (seed \(seed))")
            #expect(lots.balance == chain.balance, "balance == Σ entries (seed \(seed))")
        }
    }

    /// Refund and expiry in either order end at the same balance: a refund head office learns of after
    /// the run that it preceded, and a refund after the run of a sale whose points expired unspent (the
    /// refund's own points). A refund of a sale whose points were spent takes the excess from the
    /// member's oldest points still there, which differ before and after a run: not compared.
    @Test func aRefundBeforeOrAfterTheExpiryEndsAtTheSameBalance() {
        let seed = TestSeed.make("expiryRefundOrder")
        var random = SeededRandom(seed: seed)
        var checked = 0
        var afterChecked = 0
        for _ in 0..<2_000 {
            let events = Self.history(&random)
            guard let sale = events.filter({ $0.kind == .earn }).randomElement(using: &random) else { continue }
            // What is left of the sale to take back after the history's own refunds.
            let taken = events.filter { $0.refersTo == sale.key }.reduce(0) { $0 - $1.points }
            guard sale.points - taken > 0 else { continue }
            let refund = Int64.random(in: 1...(sale.points - taken), using: &random)
            let last = events.last!.atMilliseconds
            let expiryDay = max(sale.atMilliseconds + Self.lifetime, last) + Self.day
            let laterDay = expiryDay + Int64.random(in: 2...60, using: &random) * Self.day
            func reversal(at moment: Int64) -> PointEvent {
                PointEvent(key: "refund", kind: .reverse, points: -refund, atMilliseconds: moment, refersTo: sale.key)
            }
            // 1. Refunded before the expiry run. 2. Refunded after it. 3. Refunded before it, but the
            // refund reached head office only after the run (an offline till).
            var before = Chain()
            var after = Chain()
            var late = Chain()
            for event in events {
                before.arrive(event)
                after.arrive(event)
                late.arrive(event)
            }
            before.arrive(reversal(at: expiryDay - Self.day / 2))
            _ = before.runExpiry(at: expiryDay)
            _ = after.runExpiry(at: expiryDay)
            after.arrive(reversal(at: expiryDay + Self.day))
            _ = late.runExpiry(at: expiryDay)
            late.arrive(reversal(at: expiryDay - Self.day / 2))
            _ = before.runExpiry(at: laterDay)
            _ = after.runExpiry(at: laterDay)
            _ = late.runExpiry(at: laterDay)
            // A refund that reaches head office after the run (made before it) ends where it would have.
            #expect(before.balance == late.balance, "seed \(seed)")
            // A refund made after the run of a sale whose points had expired unspent takes them only once.
            var history = PointLots(lifetimeMilliseconds: Self.lifetime)
            for event in events { history.apply(event) }
            if let lot = history.lots.first(where: { $0.key == sale.key }), refund <= lot.remaining {
                #expect(before.balance == after.balance, "seed \(seed)")
                afterChecked += 1
            }
            checked += 1
        }
        #expect(checked > 500 && afterChecked > 100, "\(checked) \(afterChecked)")
    }

    @Test func spendingTakesTheOldestLotsAndARefundItsOwnSale() {
        var lots = PointLots(lifetimeMilliseconds: Self.lifetime)
        lots.apply(PointEvent(key: "a", kind: .earn, points: 100, atMilliseconds: 0))
        lots.apply(PointEvent(key: "b", kind: .earn, points: 50, atMilliseconds: 10 * Self.day))
        lots.apply(PointEvent(key: "r", kind: .redeem, points: -30, atMilliseconds: 20 * Self.day))
        lots.apply(PointEvent(key: "x", kind: .reverse, points: -50, atMilliseconds: 30 * Self.day, refersTo: "b"))
        #expect(lots.lots.map(\.remaining) == [70, 0], "the redemption took the oldest lot, the refund its own")
        #expect(lots.dueForExpiry(atMilliseconds: Self.lifetime) == 70)
        lots.apply(PointEvent(key: "e", kind: .expire, points: -70, atMilliseconds: Self.lifetime))
        #expect(lots.balance == 0 && lots.owedBack == 0)
    }

    /// Defect: redeem then refund turned points about to lapse into a fresh lot. Redeemed points given
    /// back go into the lots they came from and lapse when those do.
    @Test func redeemedPointsGivenBackKeepTheirLotsAndExpiry() {
        var lots = PointLots(lifetimeMilliseconds: Self.lifetime)
        lots.apply(PointEvent(key: "A:1", kind: .earn, points: 100, atMilliseconds: 0))
        lots.apply(PointEvent(key: "A:2", kind: .redeem, points: -60, atMilliseconds: 300 * Self.day))
        lots.apply(PointEvent(key: "A:3", kind: .reverse, points: 60, atMilliseconds: 360 * Self.day, refersTo: "A:2"))
        #expect(lots.lots.count == 1 && lots.lots[0].remaining == 100, "back into the lot of day 0")
        #expect(lots.dueForExpiry(atMilliseconds: Self.lifetime) == 100, "all of it lapses on the lot's day")
        // A redemption partly beyond every lot (an overdraft): what no lot held comes back as a new lot.
        var short = PointLots(lifetimeMilliseconds: Self.lifetime)
        short.apply(PointEvent(key: "B:1", kind: .earn, points: 10, atMilliseconds: 0))
        short.apply(PointEvent(key: "B:2", kind: .redeem, points: -30, atMilliseconds: Self.day))
        short.apply(PointEvent(key: "B:3", kind: .reverse, points: 30, atMilliseconds: 2 * Self.day, refersTo: "B:2"))
        #expect(short.balance == 10 && short.debt == 0)
        #expect(short.lots.map(\.remaining).reduce(0, +) == 10)
        #expect(short.dueForExpiry(atMilliseconds: Self.lifetime) == 10, "the day-0 lot is whole again and lapses then")
    }
}
