import Foundation
import HeadOffice
import LedgerStore
import LoyaltyCore
import SyncClient
import SyncProtocol
import TestSupport
import Testing

/// The early-visit coupon (`visits` sales within `within_days` of enrolling) is the always-online program's: when
/// the visits are spread over tills that had not synced, none of them issues it, and head office does.
@Suite struct EarlyVisitCouponTests {
    func money(_ text: String) -> Money { try! Money(parsing: text, currency: .euro) }

    static func program() throws -> ProgramDefinition {
        try ProgramFile.parse(
            """
            valid_from: 2020-01-01T00:00:00Z
            earning: {points_per_unit: 1, rounding: down}
            tiers:
              - {name: base, min_rolling_spend: "0", earn_multiplier_percent: 100}
            redemption: {point_value_minor: 1, minimum_points: 1, step_points: 1}
            coupons:
              - {name: come_back, when: {visits: 3, within_days: 14}, discount: "10.00", valid_days: 30}
            """)
    }

    /// Found by attack: two visits at one till and a third at another (neither had synced): no coupon anywhere,
    /// for good unless the member came a fourth time. Head office issues it with the code every till would make,
    /// once; the member uses it at any till.
    @Test(arguments: Driver.allCases)
    func visitsSpreadOverTillsStillEarnTheCoupon(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            for id in ["N", "S"] { try await store.addStore(id: id, secret: "s", now: Date()) }
            _ = try await store.publishProgram(try Self.program(), actor: "test", now: Date())
            try await Harness.withServer(store) { base in
                let (n, s) = try (
                    AgentSyncTests.Till("N", secret: "s", base: base), AgentSyncTests.Till("S", secret: "s", base: base)
                )
                let card = try CardNumber(GTIN.withCheckDigit("290000095001"))
                _ = try n.ledger.enroll(card: card, name: "Ana", birthday: nil)
                for till in [n, s] { _ = try await till.client.syncOnce() }
                _ = try n.ledger.award(card: card, amount: money("5.00"), receipt: ReceiptReference("c1"))
                _ = try n.ledger.award(card: card, amount: money("5.00"), receipt: ReceiptReference("c2"))
                let third = try s.ledger.award(card: card, amount: money("5.00"), receipt: ReceiptReference("c3"))
                #expect(third.couponsIssued == nil)
                for till in [n, s, n, s] { _ = try await till.client.syncOnce() }
                let codes = try n.ledger.member(card: card).coupons.map(\.code)
                #expect(codes.count == 1 && codes.allSatisfy { $0.hasPrefix("COME_BACK-") })
                #expect(try s.ledger.member(card: card).coupons.map(\.code) == codes)
                // Once: a fourth visit issues no second one, and running it again issues nothing.
                _ = try s.ledger.award(card: card, amount: money("5.00"), receipt: ReceiptReference("c4"))
                for till in [s, n] { _ = try await till.client.syncOnce() }
                #expect(try await store.reconcileEarlyVisitCoupons(cards: [card.value], actor: "test", now: Date()).isEmpty)
                #expect(try n.ledger.member(card: card).coupons.count == 1)
                let used = try s.ledger.useCoupon(code: codes[0], card: card, receipt: ReceiptReference("c5"))
                #expect(used.code == codes[0])
            }
        }
    }

    /// Found by attack: the coupon head office issued stayed open after the sale that reached the count was fully
    /// refunded; a till voids its own coupon with that refund, and so must head office.
    @Test(arguments: Driver.allCases)
    func theCouponHeadOfficeIssuedGoesWithTheFullRefundOfItsSale(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            for id in ["N", "S"] { try await store.addStore(id: id, secret: "s", now: Date()) }
            _ = try await store.publishProgram(try Self.program(), actor: "test", now: Date())
            try await Harness.withServer(store) { base in
                let (n, s) = try (
                    AgentSyncTests.Till("N", secret: "s", base: base), AgentSyncTests.Till("S", secret: "s", base: base)
                )
                let card = try CardNumber(GTIN.withCheckDigit("290000095002"))
                // A second between visits: two tills' clocks each agree with head office's to a few milliseconds,
                // not better (found by a flaky run: the third visit, 1 ms after the second, was dated before it).
                let start = Date().addingTimeInterval(-60)
                _ = try n.ledger.enroll(card: card, name: "Bo", birthday: nil, at: start)
                for till in [n, s] { _ = try await till.client.syncOnce() }
                for (index, (till, receipt)) in [(n, "d1"), (n, "d2"), (s, "d3")].enumerated() {
                    _ = try till.ledger.award(
                        card: card, amount: money("5.00"), receipt: ReceiptReference(receipt),
                        at: start.addingTimeInterval(Double(index + 1)))
                }
                for till in [n, s, n] { _ = try await till.client.syncOnce() }
                let code = try #require(try n.ledger.member(card: card).coupons.first?.code)
                _ = try s.ledger.refund(receipt: ReceiptReference("d3"), amount: nil, returnReceipt: nil)
                for till in [s, n, s] { _ = try await till.client.syncOnce() }
                for till in [n, s] {
                    #expect(try till.ledger.member(card: card).coupons.map(\.status) == ["voided"])
                }
                _ = try n.ledger.award(card: card, amount: money("5.00"), receipt: ReceiptReference("d4"))
                #expect(throws: LoyaltyError.self) {
                    try n.ledger.useCoupon(code: code, card: card, receipt: ReceiptReference("d4"))
                }
            }
        }
    }
}
