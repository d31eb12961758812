import Foundation
import TestSupport
import Testing

@testable import LedgerStore
@testable import LoyaltyCore

/// A card the till meets without knowing it (a scan's look-up, `member`, a redemption) is noted for the next sync,
/// which asks head office for its member; a known card, or a sale, notes nothing.
@Suite struct CardsToAskTests {
    @Test func unknownCardsMetAtTheTillAreNotedOnceAndForgottenWhenAsked() throws {
        let folder = TemporaryFolder()
        let ledger = try LedgerDatabase(path: folder.file("ledger.db"))
        let known = try CardNumber(GTIN.withCheckDigit("290000088001"))
        let scanned = try CardNumber(GTIN.withCheckDigit("290000088002"))
        let looked = try CardNumber(GTIN.withCheckDigit("290000088003"))
        let redeemed = try CardNumber(GTIN.withCheckDigit("290000088004"))
        let sold = try CardNumber(GTIN.withCheckDigit("290000088005"))
        _ = try ledger.enroll(card: known, name: nil, birthday: nil)

        #expect(try ledger.lookup(card: known) != nil)
        #expect(try ledger.lookup(card: scanned) == nil)
        #expect(try ledger.lookup(card: scanned) == nil, "a second scan notes nothing more")
        #expect { try ledger.member(card: looked) } throws: { ($0 as? LoyaltyError)?.code == "unknown_card" }
        #expect {
            try ledger.redeem(card: redeemed, points: 5, receipt: ReceiptReference("R-1"))
        } throws: { ($0 as? LoyaltyError)?.code == "unknown_card" }
        _ = try ledger.award(
            card: sold, amount: Money(minorUnits: 1_000, currency: .euro), receipt: ReceiptReference("S-1"),
            provisionalIfUnknown: true)

        let noted = try ledger.cardsToAsk(limit: 100)
        #expect(Set(noted) == [scanned.value, looked.value, redeemed.value], "\(noted)")
        #expect(try ledger.cardsToAsk(limit: 2).count == 2)
        try ledger.forgetCardsToAsk(noted)
        #expect(try ledger.cardsToAsk(limit: 100).isEmpty)
        #expect(try ledger.verify().ok)
    }
}

/// A till whose head office turns to `--pull-scope store` forgets the members it holds only from snapshots, whole
/// with what was merged into them, and keeps its own facts and the blocked cards (found by attack: a merged member's
/// stale balance was spent; a stolen card was enrolled after a pull cut short right after the switch).
@Suite struct PullScopeChangeTests {
    @Test func switchingToTheStoreScopeForgetsOnlyWhatCameFromHeadOffice() throws {
        let folder = TemporaryFolder()
        let ledger = try LedgerDatabase(path: folder.file("ledger.db"))
        let card = { (digits: String) in try CardNumber(GTIN.withCheckDigit(digits)) }
        let (visitor, visitorsStolen, kept, mergedAway, own) = (
            try card("290000099001"), try card("290000099002"), try card("290000099003"), try card("290000099004"),
            try card("290000099005")
        )
        _ = try ledger.enroll(card: own, name: nil, birthday: nil)
        _ = try ledger.award(
            card: own, amount: Money(minorUnits: 2_000, currency: .euro), receipt: ReceiptReference("S-1"))
        let snapshot = { (cards: [CardNumber], balance: Int64) in
            HeadOfficeSnapshot(
                cards: cards.map(\.value), balance: balance, tier: "base", rollingSpendMinor: 0, includesStoreSeq: 0)
        }
        try ledger.applyHeadOfficeUpdates(
            members: [snapshot([visitor, visitorsStolen], 300), snapshot([kept], 50), snapshot([mergedAway], 70)],
            blockedCards: [visitorsStolen.value], cursor: 7)
        // Head office merged the two records: the till holds them as one member (the kept card takes the other).
        try ledger.applyHeadOfficeUpdates(
            members: [snapshot([kept, mergedAway], 120)], blockedCards: [], cursor: 9)
        let ownBefore = try ledger.member(card: own).balance

        #expect(try ledger.adoptHeadOfficePullScope("chain") == 9, "the scope a till had: nothing changes")
        #expect(try ledger.adoptHeadOfficePullScope("store") == 0, "a new scope: pull from the start")
        for forgotten in [visitor, kept, mergedAway] {
            #expect(throws: LoyaltyError.self) {
                _ = try ledger.redeem(card: forgotten, points: 10, receipt: ReceiptReference("R-\(forgotten.value)"))
            }
        }
        #expect {
            try ledger.enroll(card: visitorsStolen, name: "Thief", birthday: nil)
        } throws: { ($0 as? LoyaltyError)?.code == "blocked_card" }
        #expect(try ledger.member(card: own).balance == ownBefore, "the till's own member and entries stay")
        #expect(try ledger.verify().ok)
        #expect(try ledger.adoptHeadOfficePullScope("store") == 0)
        #expect(try ledger.adoptHeadOfficePullScope(nil) == 0, "a head office that does not say changes nothing")
    }
}
