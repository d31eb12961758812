import Foundation
import LedgerStore
import LoyaltyCore
import StoreHub
import SyncClient
import TestSupport
import Testing

/// A till's clock and the store hub over real HTTP on loopback (found by attack: a till box restarted with its clock
/// 10 minutes off while head office was out of reach; the hub refused it as `stale`, did not say its time, and the
/// till redeemed alone the points another till had spent: −500 at head office).
@Suite struct StoreHubClockTests {
    let card = try! CardNumber("2900000777774")

    /// The hub of store 0042 (till 1) on a free loopback port, for the duration of `body`.
    func withHub<T: Sendable>(_ hub: LedgerDatabase, _ body: (URL) async throws -> T) async throws -> T {
        let settings = SyncSettings(
            headOfficeURL: URL(string: "http://127.0.0.1:9")!, storeId: "0042.1", secret: "s0042")
        return try await Harness.withRouter(
            StoreHubRouter(hub: HubService(ledger: hub), settings: settings).router(), body)
    }

    func connection(_ hubURL: URL, ledger: String, clock: LedgerDatabase?) -> HTTPHubConnection {
        HTTPHubConnection(
            hubURL: hubURL,
            settings: SyncSettings(headOfficeURL: URL(string: "http://127.0.0.1:9")!, storeId: ledger, secret: "s0042"),
            http: .shared, clock: clock)
    }

    @Test func aTillTenMinutesOffLearnsTheHubsClockAndIsServed() async throws {
        let folder = TemporaryFolder()
        let hub = try LedgerDatabase(path: folder.file("t1.db"), creating: .init(storeId: "0042.1"))
        let till = try LedgerDatabase(path: folder.file("t2.db"), creating: .init(storeId: "0042.2"))
        // The box restarted with its clock ten minutes behind, head office out of reach.
        try till.recordHeadOfficeClockOffset(milliseconds: -600_000)
        _ = try hub.enroll(card: card, name: "Ann", birthday: nil)
        _ = try hub.award(
            card: card, amount: Money(minorUnits: 60_000, currency: .euro), receipt: ReceiptReference("H1"))
        // The hub's own till hands its entries to the hub's tables (its daemon does so every few seconds).
        let hubsOwn = HubExchange(ledger: hub, connection: LocalHubConnection(hub: HubService(ledger: hub)))
        _ = try await hubsOwn.exchangeOnce()
        try await withHub(hub) { url in
            let exchange = HubExchange(ledger: till, connection: connection(url, ledger: "0042.2", clock: till))
            _ = try await exchange.exchangeOnce()
            #expect(abs(till.headOfficeClockOffsetMilliseconds) < 60_000, "\(till.headOfficeClockOffsetMilliseconds)")
            #expect(try till.lookup(card: card)?.balance == 600, "the hub's entries reached the till")
            // The hub holds for it: the points spent at the hub's till are not spent again here.
            _ = try hub.redeem(card: card, points: 550, receipt: ReceiptReference("H2"))
            _ = try await hubsOwn.exchangeOnce()
            await #expect {
                _ = try await HubRedemption(exchange: exchange).prepare(
                    card: card, points: 550, receipt: ReceiptReference("T2"))
            } throws: { ($0 as? LoyaltyError)?.code == "over_balance" }
        }
    }

    /// A hub that answers but refuses the till (here: a till of another store) leaves no redemption to the till
    /// alone: it could spend points another till holds.
    @Test func aTillTheHubRefusesDoesNotRedeemAlone() async throws {
        let folder = TemporaryFolder()
        let hub = try LedgerDatabase(path: folder.file("t1.db"), creating: .init(storeId: "0042.1"))
        let stranger = try LedgerDatabase(path: folder.file("s2.db"), creating: .init(storeId: "0050.2"))
        _ = try stranger.enroll(card: card, name: "Ann", birthday: nil)
        _ = try stranger.award(
            card: card, amount: Money(minorUnits: 60_000, currency: .euro), receipt: ReceiptReference("S1"))
        try await withHub(hub) { url in
            let exchange = HubExchange(ledger: stranger, connection: connection(url, ledger: "0050.2", clock: stranger))
            await #expect {
                _ = try await HubRedemption(exchange: exchange).prepare(
                    card: card, points: 100, receipt: ReceiptReference("S2"))
            } throws: { ($0 as? LoyaltyError)?.code == "hub_refused" }
        }
    }
}
