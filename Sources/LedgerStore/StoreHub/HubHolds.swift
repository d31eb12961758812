public import Foundation
import GRDB
public import LoyaltyCore

/// The hub's answer to a till about to redeem.
public enum HubHoldAnswer: Hashable, Sendable {
    /// The points are held for the till's redemption until it arrives (or the hold expires).
    case held
    /// The member has only `available` points: the redemption must be refused.
    case refused(available: Int64)
    /// Head office blocked one of the cards (the hub has heard; the till may not have yet).
    case blocked
}

/// What a till asks the hub to hold: the member as the till sees them (its balance, with the store's other
/// tills' entries up to its hub cursor), for a redemption of `points` on `receipt`.
public struct HubHoldQuestion: Hashable, Sendable {
    public var cards: [String]
    public var vouchedBalance: Int64
    public var cursor: Int64
    public var points: Int64
    public var receipt: String

    public init(cards: [String], vouchedBalance: Int64, cursor: Int64, points: Int64, receipt: String) {
        self.cards = cards
        self.vouchedBalance = vouchedBalance
        self.cursor = cursor
        self.points = points
        self.receipt = receipt
    }

    /// Bound on the cards one member may bring (a question from the wire).
    public static let maximumCards = 100
}

/// Redemptions decided by the store hub one at a time (found by attack: two till daemons redeeming the same
/// points at the same moment each exchanged first, saw the points, and both spent them). Before a till writes
/// a redemption it asks the hub to hold the points. The till's own view stands (its head-office snapshot may
/// be newer than the hub's); the hub, in one write transaction, takes off what the store's other tills spent
/// since the till's cursor and what they hold for redemptions not yet arrived. The redemption's entry,
/// pushed right after, takes the hold's place.
extension LedgerDatabase {
    /// How long a hold stands without its redemption arriving or being released: a till that crashed between its
    /// redemption and its push (found by attack: after 30 s the same points were spent again) pushes it on restart.
    public static let hubHoldMilliseconds: Int64 = 10 * 60_000

    /// Holds points for till `ledger`'s redemption; 0 points releases the hold (the till's own checks refused
    /// it). Asked again for the same receipt (a retry), the hold is replaced; a redemption the hub already has
    /// for the receipt is held already.
    public func hubHold(_ question: HubHoldQuestion, ledger: String, now: Date = Date()) throws -> HubHoldAnswer {
        precondition(
            question.points >= 0 && !question.cards.isEmpty && question.cards.count <= HubHoldQuestion.maximumCards)
        let nowMilliseconds = now.millisecondsSince1970
        return try write { db in
            try db.execute(sql: "DELETE FROM hub_holds WHERE expires_at_ms < ?", arguments: [nowMilliseconds])
            try db.execute(
                sql: "DELETE FROM hub_holds WHERE ledger = ? AND receipt = ?", arguments: [ledger, question.receipt])
            if question.points == 0 { return .held }
            if try Int64.fetchOne(
                db, sql: "SELECT 1 FROM hub_entries WHERE ledger = ? AND receipt = ? AND kind = 'redeem'",
                arguments: [ledger, question.receipt]) != nil
            {
                return .held
            }
            // The member as the hub knows them: the till's cards and every card of the same member here (head office
            // may have merged two records the till still holds apart; found by attack).
            var known = Set(question.cards)
            for card in question.cards {
                known.formUnion(
                    try String.fetchAll(
                        db,
                        sql: "SELECT c.number FROM cards c JOIN cards o ON o.member_id = c.member_id WHERE o.number = ?",
                        arguments: [card]))
            }
            if try Int64.fetchOne(
                db, sql: "SELECT 1 FROM cards WHERE status = 'blocked' AND number IN (\(known.map { _ in "?" }.joined(separator: ", ")))",
                arguments: StatementArguments(Array(known))) != nil
            {
                return .blocked
            }
            let allCards = Array(known.prefix(HubHoldQuestion.maximumCards * 2))
            let cards = allCards.map { _ in "?" }.joined(separator: ", ")
            let spentSince =
                try Int64.fetchOne(
                    db,
                    sql: """
                        SELECT IFNULL(SUM(points), 0) FROM hub_entries
                        WHERE card IN (\(cards)) AND id > ? AND ledger <> ? AND points < 0
                          AND ledger NOT IN (SELECT ledger FROM hub_ledgers WHERE refused IS NOT NULL)
                        """,
                    arguments: StatementArguments(allCards) + [question.cursor, ledger]) ?? 0
            let heldByOthers =
                try Int64.fetchOne(
                    db, sql: "SELECT IFNULL(SUM(points), 0) FROM hub_holds WHERE card IN (\(cards)) AND ledger <> ?",
                    arguments: StatementArguments(allCards) + [ledger]) ?? 0
            let (sum, overflow) = question.vouchedBalance.addingReportingOverflow(spentSince)
            var available = overflow ? 0 : sum - heldByOthers
            // The hub's own view too, when it knows the member: its head-office snapshot, its own entries and every
            // till's entries it holds, less the holds. The lower stands: a stale view refuses, never overspends.
            if try Int64.fetchOne(db, sql: "SELECT 1 FROM cards WHERE number = ?", arguments: [question.cards[0]]) != nil,
                let card = try? CardNumber(question.cards[0])
            {
                let holder = try cardHolder(card, program: try currentProgram(db), db, allowBlocked: true)
                let hubView =
                    holder.vouchedBalance - (try peerPoints(memberId: holder.memberId, db))
                    + (try heldTillsPoints(memberId: holder.memberId, db)) - heldByOthers
                available = min(available, hubView)
            }
            guard question.points <= available else { return .refused(available: max(0, available)) }
            try db.execute(
                sql: "INSERT INTO hub_holds (ledger, receipt, card, points, expires_at_ms) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    ledger, question.receipt, question.cards[0], question.points,
                    nowMilliseconds + Self.hubHoldMilliseconds,
                ])
            return .held
        }
    }

    /// Whether this till has written the redemption `receipt` already (a retry needs no hold).
    public func hasRedemption(receipt: String) throws -> Bool {
        try read { db in
            try Int64.fetchOne(
                db, sql: "SELECT 1 FROM entries WHERE idempotency_key = ?", arguments: ["redeem:\(receipt)"]) != nil
        }
    }

    /// The points of the store's tills' entries the hub holds for `memberId`'s cards (not the hub's own, not a
    /// withdrawn till's) that head office's last snapshot at the hub does not hold.
    func heldTillsPoints(memberId: Int64, _ db: Database) throws -> Int64 {
        try db.cachedStatement(
            sql: """
                SELECT IFNULL(SUM(h.points), 0) FROM hub_entries h JOIN cards c ON c.number = h.card
                WHERE c.member_id = ? AND h.ledger <> ?
                  AND h.ledger NOT IN (SELECT ledger FROM hub_ledgers WHERE refused IS NOT NULL)
                  AND \(Self.notInSnapshot("h", member: "c.member_id"))
                """
        ).firstRow([.integer(memberId), .text(storeId)]) { $0.int64(0) } ?? 0
    }
}
