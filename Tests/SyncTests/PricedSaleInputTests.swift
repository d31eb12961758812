import Foundation
import HeadOffice
import LoyaltyCore
import SyncProtocol
import TestSupport
import Testing

/// What a sale brings for head office to price it again comes from the wire: every extreme is refused with a
/// clear message and changes nothing, and the largest legal values never trap head office.
@Suite struct PricedSaleInputTests {
    func sale(
        _ seq: Int64, base: Int64?, tier: String?, birthday: Bool? = nil, kind: String = "earn", beforeCaps: Int64? = nil
    ) -> SyncEntry {
        var entry = Harness.entry(seq, kind: kind, points: kind == "earn" ? 10 : -10, at: Int64(Date().timeIntervalSince1970 * 1000) - 1_000)
        entry.earningBase = base
        entry.pricedTier = tier
        entry.pricedBirthday = birthday
        entry.pointsBeforeCaps = beforeCaps
        return entry
    }

    @Test(arguments: Driver.allCases)
    func extremesAreRefusedAndTheLargestLegalSaleIsPricedWithoutATrap(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "s", now: Date())
            _ = try await store.publishProgram(
                try ProgramFile.parse(
                    """
                    valid_from: 2020-01-01T00:00:00Z
                    earning: {points_per_unit: 1, rounding: down}
                    tiers:
                      - {name: base, min_rolling_spend: "0", earn_multiplier_percent: 100}
                      - {name: top, min_rolling_spend: "0.01", earn_multiplier_percent: 1000}
                    redemption: {point_value_minor: 1, minimum_points: 1, step_points: 1}
                    """), actor: "test", now: Date())
            let bad: [SyncEntry] = [
                sale(1, base: -1, tier: "base"), sale(1, base: .max, tier: "base"), sale(1, base: .min, tier: "base"),
                sale(1, base: 1_000_000_000_001, tier: "base"), sale(1, base: 10, tier: nil), sale(1, base: nil, tier: "base"),
                sale(1, base: 10, tier: String(repeating: "x", count: 65)), sale(1, base: 10, tier: ""),
                sale(1, base: 10, tier: "4111 1111 1111 1111"), sale(1, base: 10, tier: "base", kind: "redeem"),
                sale(1, base: nil, tier: nil, birthday: true),
                // What a sale earned before the caps: with its base, never below its points, never beyond 10^12.
                sale(1, base: nil, tier: nil, beforeCaps: 10), sale(1, base: 10, tier: "base", beforeCaps: 9),
                sale(1, base: 10, tier: "base", beforeCaps: .max), sale(1, base: 10, tier: "base", beforeCaps: .min),
                sale(1, base: 10, tier: "base", beforeCaps: 1_000_000_000_001),
            ]
            for entry in bad {
                await #expect(throws: IngestRefusal.self) {
                    _ = try await store.ingest(storeId: "A", batch: PushBatch(entries: [entry], backlog: 0), nonce: nil, now: Date())
                }
            }
            #expect(try await store.totals().isEmpty)
            // The largest base a till may bring, priced at base by a till that had not seen the member reach `top`:
            // ×1000 % would exceed what one entry may carry, so no correction is written, and nothing traps.
            let first = sale(1, base: 1_000, tier: "base")
            let huge = sale(2, base: 1_000_000_000_000, tier: "base", birthday: false, beforeCaps: 1_000_000_000_000)
            _ = try await store.ingest(
                storeId: "A", batch: PushBatch(entries: [first, huge], backlog: 0), nonce: nil, now: Date())
            _ = try await store.reconcileSalePrices(cards: [first.card], actor: "test", now: Date())
            #expect(try await store.totals().first?.entries == 2)
        }
    }
}
