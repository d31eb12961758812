public import Foundation
import GRDB
public import LoyaltyCore

/// Member cards this till met without knowing them (a look-up, a redemption): the next sync asks head office for
/// their members. Under `--pull-scope store` a till holds only the members its store has served, so a member of
/// another store is unknown here until asked for; a sale needs no asking (it reaches head office itself).
extension LedgerDatabase {
    /// At most this many cards wait to be asked for; beyond it new ones are not noted (a scanner gone wild).
    public static let maximumCardsToAsk = 1_000

    /// Runs `body`; when it refuses `card` as unknown here, notes the card for the next sync first.
    func notingUnknownCard<T>(_ card: CardNumber, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let refusal as LoyaltyError where refusal.code == "unknown_card" {
            noteCardToAsk(card)
            throw refusal
        }
    }

    /// Notes `card` for the next sync. Best effort: a ledger opened read-only, or a full disk, still answers.
    func noteCardToAsk(_ card: CardNumber) {
        try? write { db in
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO cards_to_ask (card, noted_at_ms)
                    SELECT ?, ? WHERE (SELECT COUNT(*) FROM cards_to_ask) < ?
                    """,
                arguments: [card.value, Date().millisecondsSince1970, Self.maximumCardsToAsk])
        }
    }

    /// The cards waiting to be asked for, oldest first.
    public func cardsToAsk(limit: Int) throws -> [String] {
        precondition(limit > 0, "ask for at least one card")
        return try read { db in
            try String.fetchAll(
                db, sql: "SELECT card FROM cards_to_ask ORDER BY noted_at_ms, card LIMIT ?", arguments: [limit])
        }
    }

    /// Cards head office was asked for: they are not asked for again.
    public func forgetCardsToAsk(_ cards: [String]) throws {
        try write { db in
            for card in cards {
                try db.execute(sql: "DELETE FROM cards_to_ask WHERE card = ?", arguments: [card])
            }
        }
    }
}
