import Foundation
import HeadOffice
import LedgerStore
import LoyaltyCore
import SyncClient
import SyncProtocol
import TestSupport
import Testing

/// The chain against its oracle: several tills and a real head office (both drivers, real HTTP), random
/// enrolments (at any till, twice), sales with and without lines (provisional where a till has not heard
/// of the card), retries, full and partial refunds (by line for a sale with lines), redemptions and syncs
/// in any order (a till that does not sync is
/// partitioned). After every till has synced twice, head office's balance and every till's view of every
/// member equal the oracle's: the program run as if every till were always online, in sale order.
@Suite struct ChainSimulationTests {
    static let enrolmentBonus: Int64 = 50
    static let firstPurchaseBonus: Int64 = 100

    /// What the always-online program gives, from the facts the tills accepted.
    struct Oracle {
        struct Sale {
            var card: String
            var till: Int
            var amount: Int64
            var refunded: Int64 = 0
            /// The sale's lines (empty: recorded without lines) and how much of each came back.
            var lines: [Int64] = []
            var returned: [Int64] = []
            var earned: Int64 { amount / 100 }
            var fullyRefunded: Bool { refunded >= amount }

            /// What each line earned: shares of the sale's points by amount, the odd points to the largest
            /// remainders (earlier line first on a tie) — the model of the rule, written out here.
            var lineShares: [Int64] {
                var shares = lines.map { earned * $0 / amount }
                var left = earned - shares.reduce(0, +)
                let order = lines.indices.sorted {
                    (earned * lines[$0] % amount, -$0) > (earned * lines[$1] % amount, -$1)
                }
                for index in order where left > 0 {
                    shares[index] += 1
                    left -= 1
                }
                return shares
            }

            /// Cumulative and pro rata (per line for a sale with lines), all of it once everything is back.
            var reversed: Int64 {
                guard !lines.isEmpty else { return fullyRefunded ? earned : earned * refunded / amount }
                return zip(zip(lineShares, lines), returned).reduce(0) { sum, line in
                    let ((points, amount), back) = line
                    return sum + (back >= amount ? points : points * back / amount)
                }
            }
        }

        var enrolled: Set<String> = []
        var sales: [String: Sale] = [:]
        var redeemed: [String: Int64] = [:]

        func balance(_ card: String) -> Int64 {
            let own = sales.values.filter { $0.card == card }
            let points = own.reduce(0) { $0 + $1.earned - $1.reversed }
            let enrolment = enrolled.contains(card) ? ChainSimulationTests.enrolmentBonus : 0
            let firstPurchase = own.contains { !$0.fullyRefunded } ? ChainSimulationTests.firstPurchaseBonus : 0
            return points + enrolment + firstPurchase - redeemed[card, default: 0]
        }

        var cards: Set<String> { enrolled.union(sales.values.map(\.card)) }
    }

    static func runs(_ driver: Driver) -> Int {
        ProcessInfo.processInfo.environment["LOYALTY_CHAIN_RUNS"].flatMap(Int.init) ?? (driver == .sqlite ? 400 : 100)
    }

    @Test(arguments: Driver.allCases)
    func theChainEqualsTheAlwaysOnlineOracle(_ driver: Driver) async throws {
        let base = TestSeed.make("chain simulation \(driver)")
        for run in 0..<Self.runs(driver) {
            let seed = base &+ UInt64(run)
            // A fresh head office per run: each run's tills pull only their own members.
            let failures = try await Harness.withStore(driver) { store in
                _ = try await store.publishProgram(
                    try ExpiryAndReferralTests.program(
                        enrolment: Int(Self.enrolmentBonus), firstPurchase: Int(Self.firstPurchaseBonus)),
                    actor: "test", now: Date(timeIntervalSinceNow: -1))
                try await store.setMemberRanges(["2900000000000-2999999999999"], actor: "test", now: Date())
                return try await Harness.withServer(store) { url in
                    try await Self.simulate(run: run, seed: seed, store: store, url: url)
                }
            }
            #expect(failures.isEmpty, "seed \(seed) (LOYALTY_TEST_SEED=\(seed) LOYALTY_CHAIN_RUNS=1): \(failures)")
            if !failures.isEmpty { break }
        }
    }

    /// One random history; returns what differs from the oracle.
    static func simulate(run: Int, seed: UInt64, store: any HeadOfficeStore, url: URL) async throws -> [String] {
        var random = SeededRandom(seed: seed)
        // Letters, not digits: a receipt of 13+ digits can look like a bank card number and is refused.
        let tag =
            String(String(seed % 100_000_000).map { Character(UnicodeScalar(UInt8(97) + UInt8(String($0))!)) })
            + "-\(run)"
        let tillCount = Int.random(in: 3...5, using: &random)
        var tills: [AgentSyncTests.Till] = []
        for index in 0..<tillCount {
            let id = "C\(tag)-\(index)"
            try await store.addStore(id: id, secret: "s", now: Date())
            let till = try AgentSyncTests.Till(
                id, secret: "s", base: url, batchSize: Int.random(in: 2...50, using: &random))
            _ = try await till.client.syncOnce()
            tills.append(till)
        }
        // Cards unique to this run (head office is shared by every run of the driver).
        let prefix = String(format: "29%07d", (Int(seed % 9_000_000) + run) % 10_000_000)
        let cards = (0..<Int.random(in: 3...6, using: &random)).map {
            try! CardNumber(GTIN.withCheckDigit(prefix + String(format: "%03d", $0)))
        }
        var oracle = Oracle()
        var failures: [String] = []
        var receipts: [(receipt: String, till: Int)] = []
        var counter = 0
        for _ in 0..<Int.random(in: 10...40, using: &random) {
            let till = Int.random(in: 0..<tillCount, using: &random)
            let ledger = tills[till].ledger
            let card = cards.randomElement(using: &random)!
            counter += 1
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<15:
                do {
                    _ = try ledger.enroll(card: card, name: nil, birthday: nil)
                    oracle.enrolled.insert(card.value)
                } catch let error as LoyaltyError where error.code == "card_taken" {}
            case 15..<50:
                let amount = Int64.random(in: 1...20_000, using: &random)
                let receipt = "S\(tag)-\(counter)"
                // Half the sales come with lines (SKUs distinct), returned line by line later.
                var lines: [Int64] = []
                if Bool.random(using: &random) {
                    var left = amount
                    for _ in 0..<Int.random(in: 1...3, using: &random) where left > 1 {
                        let part = Int64.random(in: 1..<left, using: &random)
                        lines.append(part)
                        left -= part
                    }
                    lines.append(left)
                }
                let result = try ledger.award(
                    card: card, amount: Money(minorUnits: amount, currency: .euro), receipt: ReceiptReference(receipt),
                    lines: lines.isEmpty
                        ? nil
                        : lines.enumerated().map {
                            SaleLine(sku: "L\($0.offset)", category: "", amountMinor: $0.element)
                        },
                    provisionalIfUnknown: true)
                if result.points != amount / 100 {
                    failures.append("sale \(receipt) earned \(result.points), not \(amount / 100)")
                }
                oracle.sales[receipt] = Oracle.Sale(
                    card: card.value, till: till, amount: amount, lines: lines, returned: lines.map { _ in 0 })
                receipts.append((receipt, till))
            case 50..<58:
                guard let (receipt, at) = receipts.randomElement(using: &random), let sale = oracle.sales[receipt]
                else { continue }
                let again = try tills[at].ledger.award(
                    card: try CardNumber(sale.card), amount: Money(minorUnits: sale.amount, currency: .euro),
                    receipt: ReceiptReference(receipt), provisionalIfUnknown: true)
                if !again.replayed { failures.append("retry of \(receipt) was not a replay") }
            case 58..<75:
                guard let (receipt, at) = receipts.randomElement(using: &random), var sale = oracle.sales[receipt],
                    !sale.fullyRefunded
                else { continue }
                let remaining = sale.amount - sale.refunded
                if sale.lines.isEmpty {
                    let part = Bool.random(using: &random) ? nil : Int64.random(in: 1...remaining, using: &random)
                    _ = try tills[at].ledger.refund(
                        receipt: ReceiptReference(receipt), amount: part.map { Money(minorUnits: $0, currency: .euro) },
                        returnReceipt: ReceiptReference("X\(tag)-\(counter)"))
                    sale.refunded += part ?? remaining
                } else if Bool.random(using: &random) {
                    // Everything that remains, without naming lines.
                    _ = try tills[at].ledger.refund(
                        receipt: ReceiptReference(receipt), amount: nil,
                        returnReceipt: ReceiptReference("X\(tag)-\(counter)"))
                    sale.returned = sale.lines
                    sale.refunded = sale.amount
                } else {
                    let open = sale.lines.indices.filter { sale.returned[$0] < sale.lines[$0] }
                    let line = open.randomElement(using: &random)!
                    let left = sale.lines[line] - sale.returned[line]
                    let part = Bool.random(using: &random) ? left : Int64.random(in: 1...left, using: &random)
                    _ = try tills[at].ledger.refund(
                        receipt: ReceiptReference(receipt), amount: nil,
                        lines: [LineReturn(sku: "L\(line)", amountMinor: part)],
                        returnReceipt: ReceiptReference("X\(tag)-\(counter)"))
                    sale.returned[line] += part
                    sale.refunded += part
                }
                oracle.sales[receipt] = sale
            case 75..<85:
                let points = Int64.random(in: 1...60, using: &random)
                do {
                    _ = try ledger.redeem(card: card, points: points, receipt: ReceiptReference("D\(tag)-\(counter)"))
                    oracle.redeemed[card.value, default: 0] += points
                } catch let error as LoyaltyError
                    where ["over_balance", "provisional_member", "unknown_card"].contains(error.code)
                {}
            default:
                _ = try await tills[till].client.syncOnce()
            }
        }
        // Every till reconnects: all push (head office reconciles), then all pull what it decided.
        for _ in 0..<2 { for till in tills { _ = try await till.client.syncOnce() } }
        for card in oracle.cards.sorted() {
            let expected = oracle.balance(card)
            let chain = try await store.member(card: card, now: Date())?.balance
            if chain != expected {
                failures.append("head office holds \(chain ?? -1) for \(card), the oracle \(expected)")
            }
            for (index, till) in tills.enumerated() where try till.ledger.lookup(card: CardNumber(card)) != nil {
                let shown = try till.ledger.member(card: CardNumber(card)).balance
                if shown != expected {
                    failures.append("till \(index) shows \(shown) for \(card), the oracle \(expected)")
                }
            }
        }
        for (index, till) in tills.enumerated() where try !till.ledger.verify().ok {
            failures.append("till \(index)'s ledger does not verify")
        }
        return failures
    }
}
