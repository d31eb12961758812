import Foundation
import HeadOffice
import LedgerStore
import LoyaltyCore
import SyncClient
import SyncProtocol
import TestSupport
import Testing

/// Coupons issued by program rules, on both drivers, through the real HTTP sync: a welcome coupon at
/// enrolment and an offer for a high-potential new member; single use across stores, a double use by
/// two offline stores reported at head office; a coupon earned by a refunded sale is voided.
@Suite struct CouponTests {
    static func program() throws -> ProgramDefinition {
        try ProgramFile.parse(
            """
            valid_from: 2020-01-01T00:00:00Z
            earning: {points_per_unit: 1, rounding: down}
            tiers:
              - {name: base, min_rolling_spend: "0", earn_multiplier_percent: 100}
            redemption: {point_value_minor: 1, minimum_points: 1, step_points: 1}
            coupons:
              - {name: welcome, when: enrolment, discount: "5.00", valid_days: 30}
              - {name: come_back, when: {visits: 2, within_days: 14}, discount: "10.00"}
            """)
    }

    func money(_ text: String) -> Money { try! Money(parsing: text, currency: .euro) }

    /// Found by attack: a member enrolled at a till that had not yet received the program (published before the
    /// enrolment) got the enrolment bonus from head office's reconciliation but never the welcome coupon, anywhere.
    /// Head office issues it, once, with the code a till would have made, and every till learns it.
    @Test(arguments: Driver.allCases)
    func aWelcomeCouponMissedByATillWithoutTheProgramIsIssuedByHeadOffice(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "sa", now: Date())
            try await store.addStore(id: "B", secret: "sb", now: Date())
            try await Harness.withServer(store) { base in
                let a = try AgentSyncTests.Till("A", secret: "sa", base: base)
                let b = try AgentSyncTests.Till("B", secret: "sb", base: base)
                _ = try await a.client.syncOnce()
                _ = try await b.client.syncOnce()
                _ = try await store.publishProgram(
                    try Self.program(), actor: "test", now: Date().addingTimeInterval(-1))
                let card = try CardNumber(GTIN.withCheckDigit("290000077718"))
                #expect(try a.ledger.enroll(card: card, name: nil, birthday: nil).couponsIssued == nil)
                for till in [a, b, a] { _ = try await till.client.syncOnce() }
                let codes = try a.ledger.member(card: card).coupons.map(\.code)
                #expect(codes.count == 1 && codes.allSatisfy { $0.hasPrefix("WELCOME-") }, "\(codes)")
                #expect(try b.ledger.member(card: card).coupons.map(\.code) == codes)
                let reconciliations = try await store.reconciliations()
                #expect(
                    reconciliations.filter { $0.reasonCode == "reconcile:coupon_missing" }.count == 1,
                    "\(reconciliations)")
                // Used once, anywhere; syncing again issues nothing more.
                _ = try b.ledger.useCoupon(code: codes[0], card: card, receipt: ReceiptReference("B-1"))
                for till in [b, a, b] { _ = try await till.client.syncOnce() }
                #expect(try a.ledger.member(card: card).coupons.map(\.code) == codes)
            }
        }
    }

    @Test(arguments: Driver.allCases)
    func aCouponWorksOnceAnywhereAndTwoOfflineUsesAreReported(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "sa", now: Date())
            try await store.addStore(id: "B", secret: "sb", now: Date())
            _ = try await store.publishProgram(try Self.program(), actor: "test", now: Date())
            try await Harness.withServer(store) { base in
                let a = try AgentSyncTests.Till("A", secret: "sa", base: base)
                let b = try AgentSyncTests.Till("B", secret: "sb", base: base)
                _ = try await a.client.syncOnce()
                _ = try await b.client.syncOnce()
                let card = try CardNumber(GTIN.withCheckDigit("290000077701"))
                let enrolled = try a.ledger.enroll(card: card, name: nil, birthday: nil)
                let code = try #require(enrolled.couponsIssued?.first)
                #expect(enrolled.couponsIssued?.count == 1 && code.hasPrefix("WELCOME-") && !code.contains(card.value))
                // B has not heard of the coupon before a sync.
                #expect(throws: LoyaltyError.self) {
                    try b.ledger.useCoupon(code: code, card: card, receipt: ReceiptReference("B-1"))
                }
                _ = try await a.client.syncOnce()
                _ = try await b.client.syncOnce()
                #expect(try b.ledger.member(card: card).coupons.map(\.code) == [code])
                #expect(try b.ledger.member(card: card).coupons.first?.discount == "5.00")

                // Both stores offline: each accepts the coupon once; a retry is the same use.
                let atA = try a.ledger.useCoupon(code: code, card: card, receipt: ReceiptReference("A-1"))
                #expect(atA.discount == "5.00" && !atA.replayed)
                #expect(try a.ledger.useCoupon(code: code, card: card, receipt: ReceiptReference("A-1")).replayed)
                #expect(throws: LoyaltyError.self) {
                    try a.ledger.useCoupon(code: code, card: card, receipt: ReceiptReference("A-2"))
                }
                _ = try b.ledger.useCoupon(code: code, card: card, receipt: ReceiptReference("B-1"))
                #expect(try await store.couponDoubleUses().isEmpty)
                _ = try await a.client.syncOnce()
                _ = try await b.client.syncOnce()
                let uses = try await store.couponDoubleUses()
                #expect(uses.map(\.storeId).sorted() == ["A", "B"] && Set(uses.map(\.code)) == [code])
                _ = try await a.client.syncOnce()
                #expect(try a.ledger.member(card: card).coupons.first?.status == "used")
                #expect(try a.ledger.verify().ok && b.ledger.verify().ok)
            }
        }
    }

    @Test(arguments: Driver.allCases)
    func aNewMembersSecondVisitEarnsTheOfferAndItsRefundVoidsIt(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "sa", now: Date())
            _ = try await store.publishProgram(try Self.program(), actor: "test", now: Date())
            try await Harness.withServer(store) { base in
                let a = try AgentSyncTests.Till("A", secret: "sa", base: base)
                _ = try await a.client.syncOnce()
                let card = try CardNumber(GTIN.withCheckDigit("290000077702"))
                _ = try a.ledger.enroll(card: card, name: nil, birthday: nil)
                #expect(
                    try a.ledger.award(card: card, amount: money("10.00"), receipt: ReceiptReference("V-1"))
                        .couponsIssued == nil)
                let second = try a.ledger.award(card: card, amount: money("10.00"), receipt: ReceiptReference("V-2"))
                let offer = try #require(second.couponsIssued?.first)
                #expect(second.couponsIssued?.count == 1 && offer.hasPrefix("COME_BACK-"))
                #expect(
                    try a.ledger.award(card: card, amount: money("10.00"), receipt: ReceiptReference("V-3"))
                        .couponsIssued == nil)
                let refund = try a.ledger.refund(receipt: ReceiptReference("V-2"), amount: nil, returnReceipt: nil)
                #expect(refund.voidedCoupons == [offer])
                #expect(throws: LoyaltyError.self) {
                    try a.ledger.useCoupon(code: offer, card: card, receipt: ReceiptReference("V-4"))
                }
                _ = try await a.client.syncOnce()
                let page = try await store.updates(storeId: "A", since: 0, now: Date())
                let states = page.members.first?.coupons?.sorted { $0.code < $1.code }.map(\.status)
                #expect(states == ["voided", "open"], "\(String(describing: page.members.first?.coupons))")
            }
        }
    }

    /// Found by attack: a till that had not heard of a refund elsewhere accepted the offer its sale had earned;
    /// that till showed it used, the others voided, and no report said so. A use stands over a void (the discount
    /// was given) at head office and at every till, and `report coupons` lists it.
    @Test(arguments: Driver.allCases)
    func anOfferUsedOfflineAfterItsSaleWasRefundedElsewhereIsUsedEverywhereAndReported(_ driver: Driver) async throws {
        try await Harness.withTills(driver, ["A", "B"], program: try Self.program()) { store, tills in
            let (a, b) = (tills[0], tills[1])
            let card = try CardNumber(GTIN.withCheckDigit("290000077709"))
            _ = try a.ledger.enroll(card: card, name: nil, birthday: nil)
            _ = try a.ledger.award(card: card, amount: money("10.00"), receipt: ReceiptReference("V-1"))
            let offer = try #require(
                try a.ledger.award(card: card, amount: money("10.00"), receipt: ReceiptReference("V-2")).couponsIssued?
                    .first)
            for till in [a, b] { _ = try await till.client.syncOnce() }
            #expect(
                try a.ledger.refund(receipt: ReceiptReference("V-2"), amount: nil, returnReceipt: nil).voidedCoupons
                    == [offer])
            _ = try await a.client.syncOnce()
            // B has not heard of the refund: it sells and accepts the offer.
            _ = try b.ledger.award(card: card, amount: money("30.00"), receipt: ReceiptReference("B-1"))
            _ = try b.ledger.useCoupon(code: offer, card: card, receipt: ReceiptReference("B-1"))
            for till in [b, a, b] { _ = try await till.client.syncOnce() }
            let status = { (till: AgentSyncTests.Till) in
                try till.ledger.member(card: card).coupons.first { $0.code == offer }?.status
            }
            #expect(try status(a) == "used" && status(b) == "used")
            let page = try await store.updates(storeId: "A", since: 0, now: Date())
            #expect(page.members.first?.coupons?.first { $0.code == offer }?.status == "used")
            let listed = try await store.couponDoubleUses()
            #expect(listed.map(\.problem) == ["used_and_voided"] && listed.map(\.storeId) == ["B"])
            #expect(try a.ledger.verify().ok && b.ledger.verify().ok)
        }
    }

    /// Defect (review 2): the early-visit offer counted only this till's visits: a new member's first visit
    /// at A and second at B earned nothing. The chain's count travels in the snapshot.
    @Test(arguments: Driver.allCases)
    func earlyVisitsCountAtEveryStore(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "sa", now: Date())
            try await store.addStore(id: "B", secret: "sb", now: Date())
            _ = try await store.publishProgram(try Self.program(), actor: "test", now: Date())
            try await Harness.withServer(store) { base in
                let a = try AgentSyncTests.Till("A", secret: "sa", base: base)
                let b = try AgentSyncTests.Till("B", secret: "sb", base: base)
                let card = try CardNumber(GTIN.withCheckDigit("290000077721"))
                _ = try a.ledger.enroll(card: card, name: nil, birthday: nil)
                #expect(
                    try a.ledger.award(card: card, amount: money("10.00"), receipt: ReceiptReference("E-1"))
                        .couponsIssued == nil)
                for till in [a, b] { _ = try await till.client.syncOnce() }
                let second = try b.ledger.award(card: card, amount: money("10.00"), receipt: ReceiptReference("E-2"))
                #expect(
                    second.couponsIssued?.first?.hasPrefix("COME_BACK-") == true,
                    "\(String(describing: second.couponsIssued))")
                // Once per member: A's next sale, after syncing, issues no second one.
                for till in [b, a] { _ = try await till.client.syncOnce() }
                #expect(
                    try a.ledger.award(card: card, amount: money("10.00"), receipt: ReceiptReference("E-3"))
                        .couponsIssued == nil)
            }
        }
    }

    /// Defect (review 2): `members merge` kept two open welcome coupons for one person. One person enrols
    /// once: the merged record's open coupon of a rule the member already holds is withdrawn, and every
    /// till shows it voided after its next pull.
    @Test(arguments: Driver.allCases)
    func aMergeLeavesOneCouponOfEachRule(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "sa", now: Date())
            _ = try await store.publishProgram(try Self.program(), actor: "test", now: Date())
            try await Harness.withServer(store) { base in
                let a = try AgentSyncTests.Till("A", secret: "sa", base: base)
                _ = try await a.client.syncOnce()
                let first = try CardNumber(GTIN.withCheckDigit("290000077711"))
                let second = try CardNumber(GTIN.withCheckDigit("290000077712"))
                let kept = try #require(try a.ledger.enroll(card: first, name: nil, birthday: nil).couponsIssued?.first)
                let merged = try #require(
                    try a.ledger.enroll(card: second, name: nil, birthday: nil).couponsIssued?.first)
                #expect(kept != merged)
                _ = try await a.client.syncOnce()
                try await store.mergeMembers(
                    keep: first.value, other: second.value, actor: "test", reason: nil, now: Date())
                let withdrawn = try await store.reconcileAfterMerge(keep: first.value, actor: "test", now: Date())
                #expect(withdrawn.coupons == [merged])
                _ = try await a.client.syncOnce()
                let coupons = try a.ledger.member(card: first).coupons
                #expect(coupons.filter { $0.status == "open" }.map(\.code) == [kept])
                #expect(coupons.first { $0.code == merged }?.status == "voided")
                #expect(throws: LoyaltyError.self) {
                    try a.ledger.useCoupon(code: merged, card: first, receipt: ReceiptReference("M-1"))
                }
                #expect(
                    try a.ledger.useCoupon(code: kept, card: first, receipt: ReceiptReference("M-2")).discount == "5.00"
                )
                // Running again withdraws nothing more.
                #expect(
                    try await store.reconcileAfterMerge(keep: first.value, actor: "test", now: Date()).coupons.isEmpty)
            }
        }
    }

    /// Defect: `coupon use NAME-CARD` worked without the member's card, on another member's receipt, and
    /// codes were made from the card (anyone holding a card could work out its coupons).
    @Test func aCouponNeedsItsMemberAndItsCodeSaysNothingOfTheCard() throws {
        let folder = TemporaryFolder()
        var program = LoyaltyProgram.standard()
        program.coupons = [CouponRule(name: "welcome", trigger: .enrolment, discountMinor: 500, validDays: 30)]
        program.couponKey = "chain-key"
        let ledger = try LedgerDatabase(path: folder.file("till.db"), creating: .init(storeId: "A", program: program))
        let owner = try CardNumber(GTIN.withCheckDigit("290000077711"))
        let other = try CardNumber(GTIN.withCheckDigit("290000077712"))
        let code = try #require(try ledger.enroll(card: owner, name: nil, birthday: nil).couponsIssued?.first)
        _ = try ledger.enroll(card: other, name: nil, birthday: nil)
        #expect(!code.contains(owner.value) && code.dropFirst("WELCOME-".count).allSatisfy(\.isUppercase))
        _ = try ledger.award(card: other, amount: money("20.00"), receipt: ReceiptReference("O-1"))
        #expect {
            try ledger.useCoupon(code: code, card: other, receipt: ReceiptReference("O-2"))
        } throws: { ($0 as? LoyaltyError)?.code == "coupon_other_member" }
        #expect {
            try ledger.useCoupon(code: code, card: owner, receipt: ReceiptReference("O-1"))
        } throws: { ($0 as? LoyaltyError)?.code == "receipt_other_member" }
        #expect(try ledger.useCoupon(code: code, card: owner, receipt: ReceiptReference("W-1")).discount == "5.00")
        withExtendedLifetime(folder) {}
    }

    /// Defect: coupon codes were made from "the first card", which differs per till: two COME_BACK
    /// coupons for one member. Every till makes the member's code from head office's first card.
    @Test(arguments: Driver.allCases)
    func oneMemberHasOneCodePerRuleAtEveryTill(_ driver: Driver) async throws {
        try await Harness.withStore(driver) { store in
            try await store.addStore(id: "A", secret: "sa", now: Date())
            try await store.addStore(id: "B", secret: "sb", now: Date())
            _ = try await store.publishProgram(try Self.program(), actor: "test", now: Date())
            try await Harness.withServer(store) { base in
                let a = try AgentSyncTests.Till("A", secret: "sa", base: base)
                let b = try AgentSyncTests.Till("B", secret: "sb", base: base)
                _ = try await a.client.syncOnce()
                _ = try await b.client.syncOnce()
                // A later card sorts before the first one: a till ordering cards by number would pick it.
                let first = try CardNumber(GTIN.withCheckDigit("290000077799"))
                let phone = try CardNumber(GTIN.withCheckDigit("290000077700"))
                _ = try a.ledger.enroll(card: first, name: nil, birthday: nil)
                _ = try a.ledger.addCard(phone, toMemberOf: first)
                _ = try await a.client.syncOnce()
                _ = try await b.client.syncOnce()
                let atA = try a.ledger.award(card: first, amount: money("10.00"), receipt: ReceiptReference("A-1"))
                let atB = try b.ledger.award(card: phone, amount: money("10.00"), receipt: ReceiptReference("B-1"))
                let secondA = try a.ledger.award(card: first, amount: money("10.00"), receipt: ReceiptReference("A-2"))
                let secondB = try b.ledger.award(card: phone, amount: money("10.00"), receipt: ReceiptReference("B-2"))
                #expect(atA.couponsIssued == nil && atB.couponsIssued == nil)
                let codes = (secondA.couponsIssued ?? []) + (secondB.couponsIssued ?? [])
                #expect(codes.count == 2 && Set(codes).count == 1, "one code for the member: \(codes)")
            }
        }
    }
}
