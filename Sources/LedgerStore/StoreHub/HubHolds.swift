public import Foundation
import GRDB
public import LoyaltyCore

/// The hub's answer to a till about to redeem.
public enum HubHoldAnswer: Hashable, Sendable {
    /// The points are held for the till's redemption until it arrives (or the hold expires).
    case held
    /// The member has only `available` points: the redemption must be refused.
    case refused(available: Int64)
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
    /// How long a hold stands without its redemption arriving (a till that crashed in between).
    public static let hubHoldMilliseconds: Int64 = 30_000

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
            let cards = question.cards.map { _ in "?" }.joined(separator: ", ")
            let spentSince =
                try Int64.fetchOne(
                    db,
                    sql: """
                        SELECT IFNULL(SUM(points), 0) FROM hub_entries
                        WHERE card IN (\(cards)) AND id > ? AND ledger <> ? AND points < 0
                          AND ledger NOT IN (SELECT ledger FROM hub_ledgers WHERE refused IS NOT NULL)
                        """,
                    arguments: StatementArguments(question.cards) + [question.cursor, ledger]) ?? 0
            let heldByOthers =
                try Int64.fetchOne(
                    db, sql: "SELECT IFNULL(SUM(points), 0) FROM hub_holds WHERE card IN (\(cards)) AND ledger <> ?",
                    arguments: StatementArguments(question.cards) + [ledger]) ?? 0
            let (sum, overflow) = question.vouchedBalance.addingReportingOverflow(spentSince)
            let available = overflow ? 0 : sum - heldByOthers
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
}
