import Foundation
import HeadOffice
import LoyaltyCore
import SyncProtocol
import TestSupport
import Testing

/// The dashboard's figures, computed in the database by each driver, against a straightforward
/// calculation over the same random entries: totals per store and chain day (India's +5:30 zone, so a
/// shortcut by whole hours or UTC days shows), members per tier.
@Suite struct DashboardFiguresTests {
    let now = Date(timeIntervalSince1970: 1_795_340_100)

    @Test(arguments: Driver.allCases)
    func dailyTotalsAndTierCountsMatchAStraightforwardCalculation(_ driver: Driver) async throws {
        var random = SeededRandom(seed: TestSeed.make("dashboard figures \(driver)"))
        let nowMilliseconds = Int64(now.timeIntervalSince1970 * 1000)
        let cards = (0..<40).map { GTIN.withCheckDigit("29000004" + String(format: "%04d", $0)) }
        let stores = ["A", "B", "C"]
        var batches: [String: [SyncEntry]] = [:]
        for store in stores {
            var seq: Int64 = 0
            for _ in 0..<Int.random(in: 20...80, using: &random) {
                seq += 1
                let card = cards.randomElement(using: &random)!
                // Up to 400 days back: some entries fall outside the 12-month window and the days shown.
                let at = nowMilliseconds - Int64.random(in: 0...(400 * 86_400_000), using: &random)
                let kind = ["earn", "earn", "earn", "redeem"].randomElement(using: &random)!
                let points =
                    kind == "earn"
                    ? Int64.random(in: 1...900, using: &random) : -Int64.random(in: 1...5, using: &random)
                var entry = Harness.entry(seq, card: card, kind: kind, points: points, at: at)
                entry.id = "\(store)-\(seq)"
                batches[store, default: []].append(entry)
            }
            batches[store] = Harness.inSequenceOrder(batches[store] ?? [])
        }
        try await Harness.withStore(driver) { store in
            for (id, entries) in batches {
                try await store.addStore(id: id, secret: "s", now: now)
                _ = try await store.ingest(
                    storeId: id, batch: PushBatch(entries: entries, backlog: 0), nonce: nil, now: now)
            }
            // Totals per store and day in the chain's zone, straightforwardly.
            let calendar = try ChainCalendar(identifier: "Asia/Kolkata")
            let since = nowMilliseconds - 30 * 86_400_000
            var expected: [String: DailyStoreTotal] = [:]
            for (id, entries) in batches {
                for entry in entries where entry.createdAtMilliseconds >= since {
                    let day = calendar.day(milliseconds: entry.createdAtMilliseconds)
                    var total =
                        expected["\(id) \(day)"]
                        ?? DailyStoreTotal(
                            storeId: id, day: day, salesMinor: 0, pointsEarned: 0, pointsRedeemed: 0, entries: 0)
                    total.salesMinor += entry.amountMinor
                    if entry.kind == "earn" {
                        total.pointsEarned += entry.points
                    } else {
                        total.pointsRedeemed -= entry.points
                    }
                    total.entries += 1
                    expected["\(id) \(day)"] = total
                }
            }
            let computed = try await store.dailyTotals(sinceMilliseconds: since, calendar: calendar)
            #expect(computed == expected.values.sorted { ($0.day, $0.storeId) < ($1.day, $1.storeId) })

            // Members per tier by 12-month spend against the standard thresholds (500, 1,500, 5,000 EUR).
            var spend: [String: Int64] = [:]
            for entries in batches.values {
                for entry in entries {
                    spend[entry.card, default: 0] +=
                        entry.createdAtMilliseconds > nowMilliseconds - 365 * 86_400_000 ? entry.amountMinor : 0
                }
            }
            var tiers: [String: Int] = [:]
            for value in spend.values {
                let tier =
                    value >= 50_000 ? (value >= 150_000 ? (value >= 500_000 ? "top" : "gold") : "silver") : "base"
                tiers[tier, default: 0] += 1
            }
            let counted = try await store.tierCounts(now: now)
            #expect(counted == tiers, "\(counted) vs \(tiers)")
            #expect(tiers.values.reduce(0, +) == spend.count)
        }
    }
}
