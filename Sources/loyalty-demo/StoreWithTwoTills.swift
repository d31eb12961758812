import Foundation
import HeadOffice
import Hummingbird
import LedgerStore
import LoyaltyCore
import StoreHub
import SyncClient
import SyncProtocol

/// The demo's store with two tills (issue 20): till 1 is the store hub (its routes served over real
/// HTTP on loopback); with the WAN down, a member enrolled at till 2 is known at till 1, and points
/// redeemed at till 1 cannot be spent again at till 2.
struct StoreWithTwoTills {
    let headOffice: SQLiteHeadOfficeStore
    let secret = RequestSigning.newSecret()
    let hub: LedgerDatabase
    let till: LedgerDatabase
    let hubService: HubService
    let cleo: CardNumber

    init(work: String, headOffice: SQLiteHeadOfficeStore) throws {
        self.headOffice = headOffice
        hub = try LedgerDatabase(path: work + "/east-1.db", creating: .init(storeId: "east.1"))
        till = try LedgerDatabase(path: work + "/east-2.db", creating: .init(storeId: "east.2"))
        hubService = HubService(ledger: hub)
        cleo = try CardNumber("2900000555556")
    }

    func settings(_ ledger: String, headOfficeURL: String) -> SyncSettings {
        SyncSettings(
            headOfficeURL: URL(string: headOfficeURL)!, storeId: ledger, secret: secret, requestTimeoutSeconds: 3)
    }

    /// The hub's routes (served by the demo's servers).
    var hubRouter: Router<BasicRequestContext> {
        StoreHubRouter(hub: hubService, settings: settings("east.1", headOfficeURL: "http://127.0.0.1:9")).router()
    }

    /// Runs the story; true when both tills verify and head office's balance equals both tills'.
    func run(headOfficeURL: String, hubURL: String, say: (String) -> Void) async throws -> Bool {
        try await headOffice.addStore(id: "east", secret: secret, now: Date())
        let eur = try till.program().currency
        let tillTwo = HubExchange(
            ledger: till,
            connection: HTTPHubConnection(
                hubURL: URL(string: hubURL)!, settings: settings("east.2", headOfficeURL: headOfficeURL), http: .shared,
                clock: till)
        )
        let tillOne = HubExchange(ledger: hub, connection: LocalHubConnection(hub: hubService))
        say(
            "   store east registered once at head office; its tills east.1 (the hub) and east.2 sign with secrets derived from it"
        )
        say("   the WAN is down: head office is unreachable from east")
        _ = try till.enroll(card: cleo, name: "Cleo Park", birthday: nil)
        let sale = try till.award(
            card: cleo, amount: try Money(parsing: "50.00", currency: eur), receipt: try ReceiptReference("E2-0001"))
        say("   Cleo enrols at till 2 and buys for 50.00: +\(sale.points) points")
        _ = try await tillTwo.exchangeOnce()
        _ = try await tillOne.exchangeOnce()
        say("   till 1 knows Cleo through the hub: balance \(try hub.lookup(card: cleo)?.balance ?? 0)")
        let spent = try hub.redeem(card: cleo, points: 40, receipt: try ReceiptReference("E1-0001"))
        say("   Cleo redeems 40 points at till 1: balance \(spent.balance)")
        _ = try await tillOne.exchangeOnce()
        _ = try await tillTwo.exchangeOnce()
        do {
            _ = try till.redeem(card: cleo, points: 40, receipt: try ReceiptReference("E2-0002"))
            say("   the same 40 points at till 2: accepted (wrong)")
        } catch let error as LoyaltyError {
            say("   the same 40 points at till 2: refused (\(error.message))")
        }
        say("   the WAN is back: both tills sync with head office")
        // Till 2 first (Cleo's enrolment and sale), then till 1, then till 2 again for till 1's redemption.
        for (name, ledger) in [("east.2", till), ("east.1", hub), ("east.2", till)] {
            _ = try await SyncClient(ledger: ledger, settings: settings(name, headOfficeURL: headOfficeURL)).syncOnce()
        }
        let atHeadOffice = try await headOffice.member(card: cleo.value, now: Date())
        let byTill = atHeadOffice?.stores.map { "\($0.storeId) \($0.points)" }.joined(separator: ", ") ?? ""
        let balances = [
            atHeadOffice?.balance, try hub.lookup(card: cleo)?.balance, try till.lookup(card: cleo)?.balance,
        ]
        let agree = Set(balances).count == 1 && balances[0] != nil
        let verified = try hub.verify().ok && (try till.verify().ok)
        say("   head office: Cleo's balance \(atHeadOffice?.balance ?? 0) (by till: \(byTill))")
        say("   east: both tills verify: \(verified); head office's balance == till 1's == till 2's: \(agree)")
        return verified && agree
    }
}
