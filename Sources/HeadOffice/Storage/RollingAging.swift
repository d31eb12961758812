import Foundation
import GRDB
import Logging
import PostgresNIO

/// A member's 12-month spend and points change when time passes, not only when entries arrive: a sale
/// 365 days old leaves the window. Stores pull the members that changed since their cursor, so head
/// office marks as changed every member whose entries left the window since the last step (found by
/// review: a till kept counting a year-old sale from its last snapshot and gave a tier not earned).
///
/// Chain-wide, at most one step a minute: `hq_counter.aged_through_ms` is how far aging has gone; a pull
/// that finds it more than a minute behind the window's start moves it there and gives the members with
/// entries in between a new version. Set-based, so a step after a long pause is one statement.
enum RollingAging {
    /// Steps smaller than this are not worth a write on a pull.
    static let minimumStepMilliseconds: Int64 = 60_000

    /// Where the window starts at `now` (entries at or before it no longer count).
    static func windowStart(_ now: Date) -> Int64 { now.milliseconds - HeadOfficeProgram.rollingWindowMilliseconds }

    /// The members with entries, issued entries or imported sales in `(from, until]` (`?1`, `?2`): every
    /// member whose 12-month figures lost something then (a return counts at its sale's time, so its sale
    /// names the member). From the tables' time indexes, not the view's computed times.
    static let agedMembers = """
        SELECT member_id FROM hq_entries WHERE created_at_ms > ?1 AND created_at_ms <= ?2
        UNION SELECT member_id FROM hq_issued WHERE created_at_ms > ?1 AND created_at_ms <= ?2
        UNION SELECT member_id FROM hq_imported_sales WHERE at_ms > ?1 AND at_ms <= ?2
        """

    /// Whether a step is due (SQLite): the mark is a minute or more behind the window's start, or ahead of
    /// it (head office's clock was set back: found by review, the mark stayed ahead and nothing aged again).
    static func due(now: Date, _ db: Database) throws -> Bool {
        let through = try Int64.fetchOne(db, sql: "SELECT aged_through_ms FROM hq_counter WHERE id = 1") ?? nil
        let gap = windowStart(now) - (through ?? windowStart(now))
        return gap >= minimumStepMilliseconds || gap <= -minimumStepMilliseconds
    }

    /// One step (SQLite, in the write transaction that serialises head office's writers). After the clock
    /// was set back, the mark moves back with it: entries that come back into the window change their
    /// members too, so those are sent again.
    static func step(now: Date, _ db: Database) throws {
        guard try due(now: now, db) else { return }
        let mark = try Int64.fetchOne(db, sql: "SELECT aged_through_ms FROM hq_counter WHERE id = 1")!
        let through = min(mark, windowStart(now))
        let until = max(mark, windowStart(now))
        try db.execute(sql: "UPDATE hq_counter SET aged_through_ms = ? WHERE id = 1", arguments: [windowStart(now)])
        let aged = try Int64.fetchAll(db, sql: agedMembers, arguments: [through, until])
        guard !aged.isEmpty else { return }
        try db.execute(sql: "UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1")
        let version = try Int64.fetchOne(db, sql: "SELECT change_seq FROM hq_counter WHERE id = 1")!
        for chunk in stride(from: 0, to: aged.count, by: 500).map({ Array(aged[$0..<min($0 + 500, aged.count)]) }) {
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
            try db.execute(
                sql: "UPDATE hq_members SET version = ? WHERE id IN (\(marks))",
                arguments: StatementArguments([version] + chunk))
        }
    }
}

extension PostgresHeadOfficeStore {
    /// One ``RollingAging`` step when due. Several processes may try at once: the first moves the mark
    /// (compare and set), the others find nothing to do.
    func ageRollingFigures(now: Date) async throws {
        let until = RollingAging.windowStart(now)
        var through: Int64?
        for try await value in try await client.query(
            "SELECT aged_through_ms FROM hq_counter WHERE id = 1", logger: logger
        )
        .decode(Int64?.self) {
            through = value
        }
        guard let mark = through, abs(until - mark) >= RollingAging.minimumStepMilliseconds else { return }
        let logger = self.logger
        // Moved back too after head office's clock was set back (see ``RollingAging/due(now:_:)``).
        let (from, to) = (min(mark, until), max(mark, until))
        let moved = try await transaction { connection in
            var moved = false
            for try await _ in try await connection.query(
                "UPDATE hq_counter SET aged_through_ms = \(until) WHERE id = 1 AND aged_through_ms = \(mark) RETURNING id",
                logger: logger
            ).decode(Int64.self) {
                moved = true
            }
            guard moved else { return false }
            try await connection.query(
                """
                WITH aged AS (SELECT member_id FROM hq_entries WHERE created_at_ms > \(from) AND created_at_ms <= \(to)
                              UNION SELECT member_id FROM hq_issued WHERE created_at_ms > \(from) AND created_at_ms <= \(to)
                              UNION SELECT member_id FROM hq_imported_sales WHERE at_ms > \(from) AND at_ms <= \(to)),
                     bumped AS (UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1 AND EXISTS (SELECT 1 FROM aged)
                                RETURNING change_seq)
                UPDATE hq_members SET version = (SELECT change_seq FROM bumped)
                WHERE id IN (SELECT member_id FROM aged) AND EXISTS (SELECT 1 FROM bumped)
                """, logger: logger)
            return true
        }
        // The step that moved the mark (one server, at most once a minute) also makes the coming months; a pull
        // never fails for it (an entry of a month not made yet goes to the default partition, and counts).
        if moved {
            do {
                try await prepareEntryMonths(now: now)
            } catch {
                logger.warning("could not make the coming months' entry tables (next step tries again): \(error)")
            }
        }
    }
}
