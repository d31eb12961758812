import LoyaltyCore
import TestSupport
import Testing

/// The per-day cap across tills: what head office corrects is the difference from one always-online
/// till applying the cap in sale order.
@Suite struct DayCapReconciliationTests {
    func sale(_ store: String, at: Int64, _ granted: Int64, cap: Int64 = 100, refunds: [(Int64, Int64)] = [])
        -> CappedSale
    {
        CappedSale(
            storeId: store, atMilliseconds: at, day: "2026-12-05", granted: granted, dayCapPoints: cap,
            refunds: refunds.map { CappedSale.Refund(atMilliseconds: $0.0, points: $0.1) })
    }

    @Test func twoTillsEachEarningTheCapHoldItOnce() {
        #expect(DayCapReconciliation.excess(of: [sale("A", at: 1, 80), sale("B", at: 2, 60)]).map(\.points) == [40])
        // The later sale kept 20 in sale order; refunding the earlier one does not give the later its 60.
        let refunded = [sale("A", at: 1, 80, refunds: [(3, -80)]), sale("B", at: 2, 60)]
        #expect(DayCapReconciliation.excess(of: refunded).map(\.points) == [40])
        // A refund before the second sale freed the cap: B's 60 stand.
        let freed = [sale("A", at: 1, 80, refunds: [(2, -80)]), sale("B", at: 3, 60)]
        #expect(DayCapReconciliation.excess(of: freed).map(\.points) == [0])
        // Half of B's sale returned: it keeps half of the 20 it kept.
        let half = [sale("A", at: 1, 80), sale("B", at: 2, 60, refunds: [(3, -30)])]
        #expect(DayCapReconciliation.excess(of: half).map(\.points) == [20])
        // No cap in the program: nothing to reconcile.
        let uncapped = CappedSale(storeId: "A", atMilliseconds: 1, day: "d", granted: 500, dayCapPoints: nil)
        #expect(DayCapReconciliation.excess(of: [uncapped]).isEmpty)
    }

    /// Random days at 1–4 tills, each capping by what it has seen (its own sales and what it learnt at its
    /// last sync, without the refunds made elsewhere since), with refunds: after correcting, the day holds
    /// exactly what one always-online till would have granted, and never more than the cap; a single till never
    /// needs a correction.
    @Test func theCorrectedDayEqualsOneAlwaysOnlineTill() {
        var random = SeededRandom(seed: TestSeed.make("day cap"))
        for _ in 0..<2_000 {
            let cap = Int64.random(in: 1...300, using: &random)
            let tills = Int.random(in: 1...4, using: &random)
            var sales: [CappedSale] = []
            var online: [(kept: Int64, standing: Int64, granted: Int64, standingMinor: Int64, amountMinor: Int64)] = []
            // Each till's last sync: the sales it had heard of then, as they stood then.
            var seen = Array(repeating: (count: 0, at: Int64(0)), count: tills)
            var time: Int64 = 0
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                time += 1
                let till = Int.random(in: 0..<tills, using: &random)
                if Bool.random(using: &random) { seen[till] = (sales.count, time) }
                if !sales.isEmpty && Int.random(in: 0..<4, using: &random) == 0 {
                    // A full or half refund of an earlier sale (its points in proportion).
                    let index = Int.random(in: 0..<sales.count, using: &random)
                    let standing = sales[index].standing(now: time)
                    let standingMinor = online[index].standingMinor
                    guard standingMinor > 1 else { continue }
                    let full = Bool.random(using: &random)
                    let (back, backMinor) = full ? (standing, standingMinor) : (standing / 2, standingMinor / 2)
                    sales[index].refunds.append(.init(atMilliseconds: time, points: -back, amountMinor: -backMinor))
                    online[index].standing -= back
                    online[index].standingMinor -= backMinor
                    continue
                }
                let raw = Int64.random(in: 0...200, using: &random)
                let amountMinor = Int64.random(in: 1...20_000, using: &random)
                // The till's view: what it heard at its last sync (not the refunds made elsewhere since), and its own.
                let known = sales.indices.reduce(Int64(0)) { sum, index in
                    if sales[index].storeId == "T\(till)" { return sum + sales[index].standing(now: time) }
                    return index < seen[till].count ? sum + sales[index].standing(now: seen[till].at) : sum
                }
                let granted = min(raw, max(0, cap - known))
                let onlineRunning = online.reduce(Int64(0)) { $0 + share($1) }
                // Always online, the sale keeps what the cap leaves of all it earns (a till that had not heard of
                // a refund elsewhere capped it too hard: the member is owed the difference).
                let kept = min(raw, max(0, cap - onlineRunning))
                sales.append(
                    CappedSale(
                        storeId: "T\(till)", atMilliseconds: time, day: "d", granted: granted, uncapped: raw,
                        amountMinor: amountMinor, dayCapPoints: cap))
                online.append((kept, granted, granted, amountMinor, amountMinor))
            }
            guard !sales.isEmpty else { continue }
            let held = sales.reduce(Int64(0)) { $0 + $1.standing(now: .max) }
            let oracle = online.reduce(Int64(0)) { $0 + share($1) }
            let excess = DayCapReconciliation.excess(of: sales).first?.points ?? 0
            #expect(held - excess == oracle, "held \(held), excess \(excess), oracle \(oracle)")
            #expect(held - excess <= cap)
            if tills == 1 { #expect(excess == 0, "a single till caps exactly like the oracle") }
        }
    }

    /// What a sale still holds of what it kept: by points, or by amount when it was granted none.
    func share(_ sale: (kept: Int64, standing: Int64, granted: Int64, standingMinor: Int64, amountMinor: Int64)) -> Int64 {
        sale.granted > 0
            ? share(sale.kept, sale.standing, sale.granted) : share(sale.kept, sale.standingMinor, sale.amountMinor)
    }

    func share(_ kept: Int64, _ standing: Int64, _ granted: Int64) -> Int64 {
        standing <= 0 ? 0 : standing >= granted ? kept : kept * standing / granted
    }
}

extension CappedSale {
    func standing(now: Int64) -> Int64 {
        granted + refunds.filter { $0.atMilliseconds <= now }.reduce(0) { $0 + $1.points }
    }
}
