import Foundation
import LedgerStore
import LoyaltyCore
import StoreHub
import SyncProtocol
import TestSupport
import Testing

/// A store's tills and their hub, in one process on real ledger files (the HTTP side is in the end-to-end
/// tests): holds decided one at a time, a hub restored from an older copy of its file.
@Suite struct StoreHubExchangeTests {
    let card = try! CardNumber("2900000777774")

    func tills(_ folder: TemporaryFolder) throws -> (hub: LedgerDatabase, two: LedgerDatabase, three: LedgerDatabase) {
        (
            try LedgerDatabase(path: folder.file("t1.db"), creating: .init(storeId: "0042.1")),
            try LedgerDatabase(path: folder.file("t2.db"), creating: .init(storeId: "0042.2")),
            try LedgerDatabase(path: folder.file("t3.db"), creating: .init(storeId: "0042.3"))
        )
    }

    /// Found by attack: two till daemons redeeming the same points at the same moment both spent them. The hub
    /// holds points for one redemption at a time; the second is refused; the first's entry takes its hold's place.
    @Test func theHubHoldsPointsForOneRedemptionAtATime() async throws {
        let folder = TemporaryFolder()
        let (hubLedger, two, three) = try tills(folder)
        let hub = LocalHubConnection(hub: HubService(ledger: hubLedger))
        let exchangeTwo = HubExchange(ledger: two, connection: hub)
        let exchangeThree = HubExchange(ledger: three, connection: hub)
        let hubsOwn = HubExchange(ledger: hubLedger, connection: hub)
        _ = try two.enroll(card: card, name: "Ann", birthday: nil)
        _ = try two.award(
            card: card, amount: Money(minorUnits: 10_000, currency: .euro), receipt: ReceiptReference("R1"))
        for exchange in [exchangeTwo, exchangeThree, hubsOwn] { _ = try await exchange.exchangeOnce() }
        let atTwo = HubRedemption(exchange: exchangeTwo)
        let atThree = HubRedemption(exchange: exchangeThree)
        // Both prepare before either writes: the hub holds 60 for till 2 and refuses till 3.
        #expect(try await atTwo.prepare(card: card, points: 60, receipt: ReceiptReference("A")))
        await #expect {
            _ = try await atThree.prepare(card: card, points: 60, receipt: ReceiptReference("B"))
        } throws: { ($0 as? LoyaltyError)?.message.contains("the member has 40 points") == true }
        // Till 2 writes and pushes: the entry replaces the hold (40 stay available, not 100 - 60 - 60).
        _ = try two.redeem(card: card, points: 60, receipt: ReceiptReference("A"))
        await atTwo.finish(held: true, written: true, card: card, receipt: try ReceiptReference("A"))
        #expect(try await atThree.prepare(card: card, points: 40, receipt: ReceiptReference("C")))
        // Till 3's own checks refuse (say, the share of the sale): its hold is released for the others.
        await atThree.finish(held: true, written: false, card: card, receipt: try ReceiptReference("C"))
        #expect(
            try await HubRedemption(exchange: hubsOwn).prepare(card: card, points: 40, receipt: ReceiptReference("D")))
        // A retry of till 2's redemption needs no hold and is not refused.
        #expect(try await atTwo.prepare(card: card, points: 60, receipt: ReceiptReference("A")) == false)
    }

    /// Found by attack: a hub restored from an older copy of its file lost a redemption; the till that made it
    /// did not resend (its mark said the hub had it), and the other tills' cursors were beyond the restored
    /// hub's entries, so they got nothing new. The till resends at once; the tills read the new generation anew.
    @Test func aHubRestoredFromAnOlderCopyGetsEverythingBackAndIsReadAgain() async throws {
        let folder = TemporaryFolder()
        let ledgers = try tills(folder)
        var hubLedger = ledgers.hub
        let (two, three) = (ledgers.two, ledgers.three)
        _ = try two.enroll(card: card, name: "Ann", birthday: nil)
        _ = try two.award(
            card: card, amount: Money(minorUnits: 10_000, currency: .euro), receipt: ReceiptReference("R1"))
        var hub = LocalHubConnection(hub: HubService(ledger: hubLedger))
        for ledger in [two, three, hubLedger] {
            _ = try await HubExchange(ledger: ledger, connection: hub).exchangeOnce()
        }
        // A copy of the hub's file (and its write-ahead log) as a backup would take it.
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: folder.file("t1.db" + suffix)) {
            try FileManager.default.copyItem(
                atPath: folder.file("t1.db" + suffix), toPath: folder.file("t1-copy.db" + suffix))
        }
        _ = try two.redeem(card: card, points: 60, receipt: ReceiptReference("A"))
        _ = try await HubExchange(ledger: two, connection: hub).exchangeOnce()
        _ = try await HubExchange(ledger: three, connection: hub).exchangeOnce()
        #expect(try three.lookup(card: card)?.balance == 40)
        // The hub's box comes back with the older copy and a new generation (its daemon's start); its own till
        // redeems 10 before till 2 has resent anything (the hub gives that entry an id till 3's cursor passed).
        hubLedger = try LedgerDatabase(path: folder.file("t1-copy.db"))
        try hubLedger.rotateHubGeneration()
        hub = LocalHubConnection(hub: HubService(ledger: hubLedger))
        _ = try hubLedger.redeem(card: card, points: 10, receipt: ReceiptReference("H"))
        _ = try await HubExchange(ledger: hubLedger, connection: hub).exchangeOnce()
        let resent = try await HubExchange(ledger: two, connection: hub).exchangeOnce()
        #expect(resent.pushedEntries == 1 && resent.hubAcknowledged == 3, "\(resent)")
        _ = try await HubExchange(ledger: three, connection: hub).exchangeOnce()
        #expect(try three.lookup(card: card)?.balance == 30, "till 3 sees the hub's redemption and till 2's resent one")
        #expect(try two.verify().ok && (try three.verify().ok))
    }

    /// A hub (or something on the LAN posing as one) answering with extreme numbers: the till neither traps nor
    /// takes them for its marks.
    @Test func extremeAnswersFromAHubChangeNothingAndTrapNothing() async throws {
        struct Wild: StoreHubConnection {
            let value: Int64
            func push(ledger: String, _ push: HubPush) async throws -> HubPushResult {
                HubPushResult(hubAcknowledged: value, expectedSeq: value)
            }
            func updates(ledger: String, since cursor: Int64) async throws -> HubUpdates {
                HubUpdates(entries: [], cursor: value, more: false, headOfficeMarks: [:], tills: [], hubAcknowledged: value)
            }
            func hold(ledger: String, _ request: HubHoldRequest) async throws -> HubHoldResult {
                HubHoldResult(outcome: HubHoldResult.refused, available: value)
            }
        }
        let folder = TemporaryFolder()
        let till = try LedgerDatabase(path: folder.file("t2.db"), creating: .init(storeId: "0042.2"))
        _ = try till.enroll(card: card, name: "Ann", birthday: nil)
        for value in [Int64.min, -1, 0, Int64.max] {
            let report = try await HubExchange(ledger: till, connection: Wild(value: value)).exchangeOnce()
            #expect((0...1).contains(report.hubAcknowledged), "\(value): \(report)")
            #expect(try till.hubPosition().cursor >= 0)
            await #expect(throws: LoyaltyError.self) {
                _ = try await HubRedemption(exchange: HubExchange(ledger: till, connection: Wild(value: value)))
                    .prepare(card: card, points: 1, receipt: ReceiptReference("W"))
            }
        }
        #expect(try till.verify().ok)
    }
}
