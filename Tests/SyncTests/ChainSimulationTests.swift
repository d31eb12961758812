import Foundation
import HeadOffice
import LedgerStore
import LoyaltyCore
import SyncClient
import SyncProtocol
import TestSupport
import Testing

/// The chain against its oracle: several tills and a real head office (both drivers, real HTTP), random
/// enrolments (at any till, twice, some referred), sales with and without lines (provisional where a till
/// has not heard of the card) under a per-day cap, retries, full and partial refunds at the selling store or
/// another (by line for a sale with lines), redemptions, cards added to a member at one till, members merged
/// at head office, and syncs in any order (a till that does not sync is partitioned). After every till has synced twice, head office's balance and every till's view
/// of every member equal the oracle's: the program run as if every till were always online, in sale order,
/// with each merged pair one person all along; after head office's expiry run, once every point has lapsed, every
/// standing point is gone everywhere and debts remain.
@Suite struct ChainSimulationTests {
    /// What the two program versions of a run differ in (the referral bonus stays: head office pays it).
    struct Terms {
        var enrolmentBonus: Int64
        var firstPurchaseBonus: Int64
        var dayCapPoints: Int64
    }

    static let first = Terms(enrolmentBonus: 50, firstPurchaseBonus: 100, dayCapPoints: 150)
    /// Published part way through some runs; tills switch at their next pull.
    static let second = Terms(enrolmentBonus: 30, firstPurchaseBonus: 60, dayCapPoints: 100)
    static let referralBonus: Int64 = 25
    /// Points lapse after this many days; the run ends with head office's expiry run that long after.
    static let expiryDays = 30

    static func program(_ terms: Terms) throws -> ProgramDefinition {
        try ProgramFile.parse(
            """
            valid_from: 2020-01-01T00:00:00Z
            earning: {points_per_unit: 1, rounding: down, per_member_day_cap_points: \(terms.dayCapPoints)}
            tiers:
              - {name: base, min_rolling_spend: "0", earn_multiplier_percent: 100}
            redemption: {point_value_minor: 1, minimum_points: 1, step_points: 1}
            bonuses: {enrolment_points: \(terms.enrolmentBonus), first_purchase_points: \(terms.firstPurchaseBonus), \
            referral_points: \(referralBonus)}
            coupons:
              - {name: welcome, when: enrolment, discount: "1.00", valid_days: 30}
            expiry: {after_days: \(expiryDays)}
            """)
    }

    /// What the always-online program gives, from the facts the tills accepted.
    struct Oracle {
        struct Sale {
            var card: String
            var till: Int
            var amount: Int64
            /// Points the till granted (its view of the day cap may have been partial or stale), and what the sale
            /// earns before the day cap (always online, it keeps as much of it as the cap leaves).
            var granted: Int64
            var uncapped: Int64
            var atMilliseconds: Int64
            var refunded: Int64 = 0
            /// The sale's lines (empty: recorded without lines) and how much of each came back.
            var lines: [Int64] = []
            var returned: [Int64] = []
            /// Points taken back and the amount refunded after each refund (cumulative), with its time.
            var refundLog: [(atMilliseconds: Int64, reversed: Int64, refunded: Int64)] = []
            var fullyRefunded: Bool { refunded >= amount }

            /// What each line earned: shares of the sale's points by amount, the odd points to the largest
            /// remainders (earlier line first on a tie) — the model of the rule, written out here.
            var lineShares: [Int64] {
                var shares = lines.map { granted * $0 / amount }
                var left = granted - shares.reduce(0, +)
                let order = lines.indices.sorted {
                    (granted * lines[$0] % amount, -$0) > (granted * lines[$1] % amount, -$1)
                }
                for index in order where left > 0 {
                    shares[index] += 1
                    left -= 1
                }
                return shares
            }

            /// Cumulative and pro rata (per line for a sale with lines), all of it once everything is back.
            var reversed: Int64 {
                guard !lines.isEmpty else { return fullyRefunded ? granted : granted * refunded / amount }
                return zip(zip(lineShares, lines), returned).reduce(0) { sum, line in
                    let ((points, amount), back) = line
                    return sum + (back >= amount ? points : points * back / amount)
                }
            }

            /// What the sale holds of `kept` after the refunds made before `milliseconds` (all when nil): in
            /// proportion to its points, or to its amount when the till granted none.
            func holds(_ kept: Int64, before milliseconds: Int64? = nil) -> Int64 {
                let back = milliseconds.map { at in refundLog.last { $0.atMilliseconds < at } } ?? refundLog.last
                if granted == 0 {
                    return Oracle.share(kept, standing: amount - (back?.refunded ?? 0), granted: amount)
                }
                return Oracle.share(kept, standing: granted - (back?.reversed ?? 0), granted: granted)
            }
        }

        var enrolled: Set<String> = []
        /// Each card's first enrolment, anywhere.
        var enrolledAt: [String: Int64] = [:]
        /// When head office published the second version (the program in force from then on).
        var switchedAt: Int64?
        var referredBy: [String: String] = [:]
        var enrolLog: [String] = []
        var sales: [String: Sale] = [:]
        var redeemed: [String: Int64] = [:]
        /// Merged cards: each card's representative (one person).
        var merged: [String: String] = [:]
        /// Cards a till added to a member, each with the card it was added through.
        var addedTo: [String: String] = [:]

        func person(_ card: String) -> String {
            var card = card
            while let next = merged[card] ?? addedTo[card] { card = next }
            return card
        }

        /// `kept × standing / granted`, rounded down: what a partly refunded sale still holds of what it kept.
        static func share(_ kept: Int64, standing: Int64, granted: Int64) -> Int64 {
            standing <= 0 ? 0 : standing >= granted ? kept : kept * standing / granted
        }

        /// The program in force at a moment, as if every till were always online.
        func terms(at milliseconds: Int64) -> Terms {
            switchedAt.map { milliseconds >= $0 } == true ? ChainSimulationTests.second : ChainSimulationTests.first
        }

        /// Every person's balance, by representative card.
        func balances() -> [String: Int64] {
            var balance: [String: Int64] = [:]
            var people: [String: [Sale]] = [:]
            for sale in sales.values { people[person(sale.card), default: []].append(sale) }
            let utc = { (milliseconds: Int64) in milliseconds / 86_400_000 }
            for (who, own) in people {
                // The day cap in sale order: each sale keeps what the day's earlier sales left.
                var byDay: [Int64: [Sale]] = [:]
                for sale in own { byDay[utc(sale.atMilliseconds), default: []].append(sale) }
                var points: Int64 = 0
                for day in byDay.values {
                    let ordered = day.sorted { $0.atMilliseconds < $1.atMilliseconds }
                    var kept: [Int64] = []
                    for sale in ordered {
                        let running = zip(ordered, kept).reduce(Int64(0)) { sum, pair in
                            sum + pair.0.holds(pair.1, before: sale.atMilliseconds)
                        }
                        kept.append(min(sale.uncapped, max(0, terms(at: sale.atMilliseconds).dayCapPoints - running)))
                    }
                    for (sale, keep) in zip(ordered, kept) { points += sale.holds(keep) }
                }
                balance[who, default: 0] += points
            }
            let everyone = Set(cards.map(person))
            for who in everyone {
                let mine = cards.filter { person($0) == who }
                let standingSales = (people[who] ?? []).filter { !$0.fullyRefunded }.map(\.atMilliseconds)
                let standing = !standingSales.isEmpty
                if let enrolment = mine.compactMap({ enrolledAt[$0] }).min() {
                    balance[who, default: 0] += terms(at: enrolment).enrolmentBonus
                }
                if let firstSale = standingSales.min() {
                    balance[who, default: 0] += terms(at: firstSale).firstPurchaseBonus
                }
                // A referred person with a standing sale: once for them, once for their referrer (not themselves).
                if standing, let referrer = mine.compactMap({ referredBy[$0] }).first, person(referrer) != who {
                    balance[who, default: 0] += ChainSimulationTests.referralBonus
                    balance[person(referrer), default: 0] += ChainSimulationTests.referralBonus
                }
                balance[who, default: 0] -= mine.reduce(0) { $0 + redeemed[$1, default: 0] }
            }
            return balance
        }

        var cards: Set<String> { enrolled.union(sales.values.map(\.card)).union(merged.keys).union(addedTo.keys) }
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
                    try Self.program(Self.first), actor: "test", now: Date(timeIntervalSinceNow: -7200))
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
        var cards = (0..<Int.random(in: 3...6, using: &random)).map {
            try! CardNumber(GTIN.withCheckDigit(prefix + String(format: "%03d", $0)))
        }
        // Unused cards a till may add to a member it knows (a phone barcode beside the plastic card).
        var spareCards = (0..<3).map { try! CardNumber(GTIN.withCheckDigit(prefix + String(format: "%03d", 500 + $0))) }
        var oracle = Oracle()
        var failures: [String] = []
        var receipts: [(receipt: String, till: Int)] = []
        var counter = 0
        // One clock for the run, a second per step (an hour ago on): sale order is time order everywhere.
        let start = Date(timeIntervalSinceNow: -3600)
        func clock() -> Date { start.addingTimeInterval(Double(counter)) }
        func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }
        // The first card refers some of the others; head office knows it from the start.
        let referrer = cards[0]
        _ = try tills[0].ledger.enroll(card: referrer, name: nil, birthday: nil, at: clock())
        oracle.enrolled.insert(referrer.value)
        oracle.enrolledAt[referrer.value] = milliseconds(clock())
        _ = try await tills[0].client.syncOnce()
        let referrals = Dictionary(
            uniqueKeysWithValues: cards.dropFirst().filter { _ in Bool.random(using: &random) }.map { ($0.value, referrer) })
        for _ in 0..<Int.random(in: 10...40, using: &random) {
            let till = Int.random(in: 0..<tillCount, using: &random)
            let ledger = tills[till].ledger
            let card = cards.randomElement(using: &random)!
            counter += 1
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<15:
                // An added card is the member's: enrolling it as a new member elsewhere is a conflict head
                // office lists for a person to resolve (CardConflictTests), not a program rule.
                guard oracle.addedTo[card.value] == nil else { continue }
                // Online, a card whose person is enrolled already (this card, or one merged with it) is refused:
                // a till that has not heard enrols it offline, and it names no referrer.
                let personEnrolled = oracle.enrolledAt.keys.contains { oracle.person($0) == oracle.person(card.value) }
                do {
                    _ = try ledger.enroll(card: card, name: nil, birthday: nil, referredBy: referrals[card.value], at: clock())
                    oracle.enrolled.insert(card.value)
                    if oracle.enrolledAt[card.value] == nil { oracle.enrolledAt[card.value] = milliseconds(clock()) }
                    if let referrer = referrals[card.value], !personEnrolled { oracle.referredBy[card.value] = referrer.value }
                    oracle.enrolLog.append("ENROL \(card.value) till \(till) at \(milliseconds(clock())) referrer \(referrals[card.value]?.value ?? "-") personEnrolled \(personEnrolled)")
                } catch let error as LoyaltyError where ["card_taken", "self_referral"].contains(error.code) {}
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
                    provisionalIfUnknown: true, at: clock())
                if result.points > amount / 100 || result.points < 0 {
                    failures.append("sale \(receipt) earned \(result.points), more than \(amount / 100)")
                }
                oracle.sales[receipt] = Oracle.Sale(
                    card: card.value, till: till, amount: amount, granted: result.points,
                    uncapped: result.breakdown.map { $0.points + $0.capped } ?? result.points,
                    atMilliseconds: milliseconds(clock()), lines: lines,
                    returned: lines.map { _ in 0 })
                receipts.append((receipt, till))
            case 50..<58:
                guard let (receipt, at) = receipts.randomElement(using: &random), let sale = oracle.sales[receipt]
                else { continue }
                let again = try tills[at].ledger.award(
                    card: try CardNumber(sale.card), amount: Money(minorUnits: sale.amount, currency: .euro),
                    receipt: ReceiptReference(receipt), provisionalIfUnknown: true, at: clock())
                if !again.replayed { failures.append("retry of \(receipt) was not a replay") }
            case 58..<75:
                guard let (receipt, at) = receipts.randomElement(using: &random), var sale = oracle.sales[receipt],
                    !sale.fullyRefunded
                else { continue }
                // Half the returns are taken at another store, through head office (every till is online here).
                let returnAt = Bool.random(using: &random) ? at : Int.random(in: 0..<tillCount, using: &random)
                let returns = ReturnAnywhere(ledger: tills[returnAt].ledger, headOffice: tills[returnAt].client)
                func refund(amount: Int64?, lines: [LineReturn]?) async throws -> Bool {
                    do {
                        _ = try await returns.refund(
                            receipt: ReceiptReference(receipt), soldAt: returnAt == at ? nil : tills[at].client.settings.storeId,
                            amount: amount.map { Money(minorUnits: $0, currency: .euro) }, lines: lines,
                            returnReceipt: ReceiptReference("X\(tag)-\(counter)"), at: clock())
                        return true
                    } catch let error as LoyaltyError where returnAt != at && error.code == "unknown_receipt" {
                        return false  // the selling till has not synced the sale yet: the return waits
                    }
                }
                let remaining = sale.amount - sale.refunded
                if sale.lines.isEmpty {
                    let part = Bool.random(using: &random) ? nil : Int64.random(in: 1...remaining, using: &random)
                    guard try await refund(amount: part, lines: nil) else { continue }
                    sale.refunded += part ?? remaining
                } else if Bool.random(using: &random) {
                    // Everything that remains, without naming lines.
                    guard try await refund(amount: nil, lines: nil) else { continue }
                    sale.returned = sale.lines
                    sale.refunded = sale.amount
                } else {
                    let open = sale.lines.indices.filter { sale.returned[$0] < sale.lines[$0] }
                    let line = open.randomElement(using: &random)!
                    let left = sale.lines[line] - sale.returned[line]
                    let part = Bool.random(using: &random) ? left : Int64.random(in: 1...left, using: &random)
                    guard try await refund(amount: nil, lines: [LineReturn(sku: "L\(line)", amountMinor: part)]) else { continue }
                    sale.returned[line] += part
                    sale.refunded += part
                }
                sale.refundLog.append((milliseconds(clock()), sale.reversed, sale.refunded))
                oracle.sales[receipt] = sale
            case 75..<85:
                let points = Int64.random(in: 1...60, using: &random)
                do {
                    _ = try ledger.redeem(
                        card: card, points: points, receipt: ReceiptReference("D\(tag)-\(counter)"), at: clock())
                    oracle.redeemed[card.value, default: 0] += points
                } catch let error as LoyaltyError
                    where ["over_balance", "provisional_member", "unknown_card"].contains(error.code)
                {}
            case 85..<88:
                // Head office merges two records of one person (both known there).
                let other = cards.randomElement(using: &random)!
                let (keep, gone) = (oracle.person(card.value), oracle.person(other.value))
                guard keep != gone, try await store.member(card: keep, now: Date()) != nil,
                    try await store.member(card: gone, now: Date()) != nil
                else { continue }
                // At the run's clock, like every till's entry: head office judges an enrolment against the merge's
                // time (an enrolment after the merge names no referrer), so the two must share one timeline.
                try await store.mergeMembers(keep: keep, other: gone, actor: "test", reason: nil, now: clock())
                try await store.reconcileAfterMerge(keep: keep, actor: "members merge", now: clock())
                oracle.merged[gone] = keep
                oracle.enrolLog.append("MERGE \(gone) into \(keep) at \(milliseconds(clock()))")
            case 88..<90:
                // Head office publishes the second version (once): tills switch at their next pull.
                guard oracle.switchedAt == nil else { continue }
                _ = try await store.publishProgram(try Self.program(Self.second), actor: "test", now: clock())
                oracle.switchedAt = milliseconds(clock())
            case 90..<93:
                // This till adds an unused card to a member it knows; every till learns it at its next pull,
                // and sales on it elsewhere before that are provisional until head office joins them.
                guard let spare = spareCards.first, try ledger.lookup(card: card) != nil else { continue }
                do {
                    _ = try ledger.addCard(spare, toMemberOf: card, at: clock())
                    spareCards.removeFirst()
                    oracle.addedTo[spare.value] = card.value
                    cards.append(spare)
                } catch let error as LoyaltyError where ["provisional_member", "unknown_card", "card_taken"].contains(error.code) {}
            default:
                _ = try await tills[till].client.syncOnce()
            }
        }
        // Every till reconnects: all push (head office reconciles), then all pull what it decided.
        for _ in 0..<2 { for till in tills { _ = try await till.client.syncOnce() } }
        let balances = oracle.balances()
        for card in oracle.cards.sorted() {
            let expected = balances[oracle.person(card)] ?? 0
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
        if !failures.isEmpty, ProcessInfo.processInfo.environment["LOYALTY_CHAIN_DUMP"] != nil {
            print("ORACLE", oracle.enrolled.sorted(), oracle.referredBy, oracle.merged, oracle.redeemed)
            for (receipt, sale) in oracle.sales.sorted(by: { $0.value.atMilliseconds < $1.value.atMilliseconds }) {
                print("SALE", receipt, sale.card, "till", sale.till, "amount", sale.amount, "granted", sale.granted,
                      "refunded", sale.refunded, "log", sale.refundLog, "lines", sale.lines, sale.returned)
            }
            for card in oracle.cards.sorted() {
                print("HQ", card, try await store.member(card: card, now: Date()).map { ($0.balance, $0.cards) } as Any)
            }
            for facts in try await store.grantFacts(cards: Array(oracle.cards)) {
                print("FACTS", facts.card, facts.paid, facts.payments, facts.corrected, facts.firstEnrolment as Any)
            }
            for record in try await store.reconciliations().reversed() {
                print("RECONCILE", record.card, record.points, record.by, record.reason)
            }
            for conflict in try await store.cardConflicts() {
                print("CONFLICT", conflict.card, conflict.kind, conflict.storeId, "added to", conflict.addedTo, "held by", conflict.heldBy,
                      "provisional", conflict.heldByProvisional)
            }
            print("ADDED", oracle.addedTo)
            for line in oracle.enrolLog { print(line) }
            for facts in try await store.dayCapFacts(cards: Array(oracle.cards)) { print("DAYCAP", facts) }
            for history in try await store.pointHistories(cards: Array(oracle.cards), expiredOnly: false) { print("HISTORY", history) }
        }
        // Coupons: one welcome coupon per enrolled person (merged records keep one), the same at every till.
        for person in Set(oracle.cards.map(oracle.person)).sorted() {
            let atHeadOffice = try await store.coupons(cards: [person]).values.flatMap { $0 }
                .filter { $0.status != "voided" && $0.code.hasPrefix("WELCOME-") }.map(\.code).sorted()
            let enrolled = oracle.cards.contains { oracle.person($0) == person && oracle.enrolled.contains($0) }
            if atHeadOffice.count != (enrolled ? 1 : 0) {
                failures.append("head office holds welcome coupons \(atHeadOffice) for \(person), enrolled: \(enrolled)")
            }
            for (index, till) in tills.enumerated() where try till.ledger.lookup(card: CardNumber(person)) != nil {
                let shown = try till.ledger.member(card: CardNumber(person)).coupons
                    .filter { $0.status != "voided" && $0.code.hasPrefix("WELCOME-") }.map(\.code).sorted()
                if shown != atHeadOffice {
                    failures.append("till \(index) shows welcome coupons \(shown) for \(person), head office \(atHeadOffice)")
                }
            }
        }
        // Head office's expiry run, once everything has lapsed: every point still standing expires (an overdrawn
        // member keeps their debt), and every till shows it after its next pull.
        let later = start.addingTimeInterval(Double(Self.expiryDays + 2) * 86_400)
        let calendar = try ChainCalendar(identifier: "UTC")
        _ = try await store.runExpiry(asOfDay: calendar.today(later), calendar: calendar, actor: "test", now: later)
        for till in tills { _ = try await till.client.syncOnce() }
        for card in oracle.cards.sorted() {
            let expected = min(balances[oracle.person(card)] ?? 0, 0)
            let chain = try await store.member(card: card, now: later)?.balance
            if chain != expected {
                failures.append("after expiry head office holds \(chain ?? -1) for \(card), the oracle \(expected)")
            }
            for (index, till) in tills.enumerated() where try till.ledger.lookup(card: CardNumber(card)) != nil {
                let shown = try till.ledger.member(card: CardNumber(card)).balance
                if shown != expected {
                    failures.append("after expiry till \(index) shows \(shown) for \(card), the oracle \(expected)")
                }
            }
        }
        for (index, till) in tills.enumerated() where try !till.ledger.verify().ok {
            failures.append("till \(index)'s ledger does not verify")
        }
        return failures
    }
}
