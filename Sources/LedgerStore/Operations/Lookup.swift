import GRDB
import GRDBSQLite
public import LoyaltyCore

/// The member behind a scanned card, as the till needs it at once: no history, one indexed read.
/// `balance` is the vouched balance (head office's snapshot plus this store's newer entries).
public struct CardLookup: Hashable, Sendable, Codable {
    public var card: String
    public var cardStatus: String
    public var memberId: Int64
    public var balance: Int64
    public var tier: String
}

extension LedgerDatabase {
    /// The member holding `card`, or `nil` when the card is not enrolled. Blocked cards are
    /// returned with their status so the cashier can be told. The balance counts the store's other
    /// tills' entries head office's snapshot does not hold yet (a store hub relayed them), as a sale's does.
    /// A card unknown here is asked for at the next sync (``cardsToAsk(limit:)``).
    public func lookup(card: CardNumber) throws -> CardLookup? {
        let found = try lookupWithoutNoting(card: card)
        if found == nil { noteCardToAsk(card) }
        return found
    }

    private func lookupWithoutNoting(card: CardNumber) throws -> CardLookup? {
        do {
            // One SELECT is atomic on its own: no transaction needed on this hot path.
            return try queue.unsafeRead { db in
                let statement = try db.cachedStatement(sql: isTillOfStore ? Self.lookupAtATill : Self.lookup)
                // The scanner's hot path: bind and read through SQLite's C API on GRDB's cached
                // statement. GRDB's generic row decoding costs as much as the query itself here.
                let handle = statement.sqliteStatement
                sqlite3_reset(handle)
                defer {
                    sqlite3_reset(handle)
                    sqlite3_clear_bindings(handle)
                }
                let bound = card.value.withCString { sqlite3_bind_text(handle, 1, $0, -1, SQLITE_TRANSIENT_DESTRUCTOR) }
                guard bound == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: bound)) }
                switch sqlite3_step(handle) {
                case SQLITE_ROW:
                    return CardLookup(
                        card: card.value, cardStatus: String(cString: sqlite3_column_text(handle, 1)),
                        memberId: sqlite3_column_int64(handle, 0), balance: sqlite3_column_int64(handle, 2),
                        tier: String(cString: sqlite3_column_text(handle, 3)))
                case SQLITE_DONE:
                    return nil
                case let code:
                    throw DatabaseError(
                        resultCode: ResultCode(rawValue: code),
                        message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                }
            }
        } catch {
            throw StorageError.wrapping(error, path: path)
        }
    }
}

extension LedgerDatabase {
    /// The scan's lookup; `peers` adds to the balance (at one till of a store with several: the store's other
    /// tills' entries the snapshot does not hold).
    private static func lookup(peers: String) -> String {
        """
        SELECT m.id, c.status,
               IFNULL(s.balance + (SELECT IFNULL(SUM(e.points), 0) FROM entries e
                                   WHERE e.member_id = m.id AND e.seq > s.includes_store_seq), m.balance) \(peers),
               m.tier
        FROM cards c JOIN members m ON m.id = c.member_id LEFT JOIN member_snapshots s ON s.member_id = m.id
        WHERE c.number = ?
        """
    }
    static let lookup = lookup(peers: "")
    static let lookupAtATill = lookup(
        peers: """
            + (SELECT IFNULL(SUM(p.points), 0) FROM store_peer_entries p JOIN cards pc ON pc.number = p.card
                  WHERE pc.member_id = m.id
                    AND \(LedgerDatabase.notInSnapshot("p", member: "pc.member_id")))
            - \(LedgerDatabase.withheldCorrections(member: "m.id"))
            """)
}

/// SQLite copies the bound text (SQLITE_TRANSIENT, which does not import into Swift).
private let SQLITE_TRANSIENT_DESTRUCTOR = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
