import GRDB
import LoyaltyCore

extension LedgerDatabase {
    /// Checks every invariant the ledger promises: balance == Σ entries per member, each entry's
    /// balance-after equals the running sum, sequences 1...n without gaps, no refund took back more
    /// than its sale earned, the immutability triggers are in place, and SQLite's integrity check.
    public func verify() throws -> VerificationReport {
        try read { db in
            var checks: [VerificationReport.Check] = []
            func check(_ name: String, _ failures: [String], _ okDetail: String) {
                checks.append(
                    .init(
                        name: name, ok: failures.isEmpty,
                        detail: failures.isEmpty ? okDetail : failures.prefix(5).joined(separator: "; ") + (failures.count > 5 ? " (+\(failures.count - 5) more)" : "")))
            }
            // Members as `status` counts them (a card blocked before anyone used it is none); every record's
            // balance is checked below all the same.
            let members = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM members m WHERE NOT \(Self.holdsOnlyBlockedCards)") ?? 0
            let entries = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM entries") ?? 0

            let balanceMismatches = try Row.fetchAll(
                db,
                sql: """
                    SELECT m.id, m.balance, IFNULL(SUM(e.points), 0) AS total FROM members m
                    LEFT JOIN entries e ON e.member_id = m.id GROUP BY m.id HAVING m.balance != total
                    """
            ).map { "member \($0[0] as Int64): balance \($0[1] as Int64) but entries sum to \($0[2] as Int64)" }
            check("balances", balanceMismatches, "\(members) member balances equal the sum of their entries")

            let runningMismatches = try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, balance_after, running FROM (
                        SELECT seq, balance_after, SUM(points) OVER (PARTITION BY member_id ORDER BY seq) AS running FROM entries
                    ) WHERE balance_after != running LIMIT 100
                    """
            ).map { "entry \($0[0] as Int64): balance after \($0[1] as Int64), running sum \($0[2] as Int64)" }
            check("balance_history", runningMismatches, "every entry's balance-after equals the running sum")

            // The 12-month figures a member's row keeps for awards are a cache, like the balance.
            let keptRollingMismatches = try Row.fetchAll(
                db,
                sql: """
                    SELECT m.id, m.local_rolling_spend_minor, m.local_rolling_points, s.spend, s.points FROM members m
                    JOIN (SELECT k.id, IFNULL(SUM(e.amount_minor), 0) AS spend,
                                 IFNULL(SUM(\(TierBasis.pointsEarnedSQL)), 0) AS points,
                                 MIN(\(Self.countedAt("e"))) AS oldest
                          FROM members k LEFT JOIN entries e ON e.member_id = k.id AND e.seq > k.local_rolling_after_seq
                                                             AND \(Self.countedAt("e")) > k.local_rolling_from_ms
                          WHERE k.local_rolling_after_seq IS NOT NULL GROUP BY k.id) s ON s.id = m.id
                    WHERE m.local_rolling_spend_minor != s.spend OR m.local_rolling_points != s.points
                       OR m.local_rolling_oldest_ms IS NOT s.oldest
                    LIMIT 100
                    """
            ).map {
                "member \($0[0] as Int64): keeps 12-month spend \($0[1] as Int64) and points \($0[2] as Int64), "
                    + "but entries sum to \($0[3] as Int64) and \($0[4] as Int64)"
            }
            check("rolling_figures", keptRollingMismatches, "every member's kept 12-month figures equal their entries")

            let sequence = try Row.fetchOne(db, sql: "SELECT IFNULL(MIN(seq), 1), IFNULL(MAX(seq), 0), COUNT(*) FROM entries")!
            let (minSeq, maxSeq, count): (Int64, Int64, Int64) = (sequence[0], sequence[1], sequence[2])
            let lastUsed = Int64(try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'hq_acknowledged_seq'") ?? "0") ?? 0
            var sequenceFailures: [String] = []
            if count > 0 && (minSeq != 1 || maxSeq != count) {
                sequenceFailures.append("sequence runs \(minSeq)...\(maxSeq) over \(count) entries: there is a gap")
            }
            if lastUsed > maxSeq {
                sequenceFailures.append("head office acknowledged \(lastUsed) but the ledger ends at \(maxSeq)")
            }
            check("sequence", sequenceFailures, count == 0 ? "no entries yet" : "sequence 1...\(maxSeq) without gaps")

            let overRefunds = try Row.fetchAll(
                db,
                sql: """
                    SELECT o.receipt, o.kind, o.points, IFNULL(SUM(r.points), 0) FROM entries o
                    JOIN entries r ON r.refers_to_seq = o.seq AND r.kind = 'reverse'
                    WHERE o.kind IN ('earn', 'redeem')
                    GROUP BY o.seq HAVING ABS(SUM(r.points)) > ABS(o.points) OR SUM(r.points) * o.points > 0
                    """
            ).map { "receipt \($0[0] as String): \($0[1] as String) of \($0[2] as Int64) points reversed by \($0[3] as Int64)" }
            check("refunds", overRefunds, "no refund gave back more than its sale earned or redeemed")

            let movedReversals = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.seq, o.seq, o.receipt FROM entries r JOIN entries o ON o.seq = r.refers_to_seq
                    WHERE r.kind = 'reverse' AND r.card != o.card LIMIT 100
                    """
            ).map { "entry \($0[0] as Int64) reverses entry \($0[1] as Int64) (receipt \($0[2] as String)) but credits another card" }
            // The card, not the member: head office may since hold the card on another member (a card conflict),
            // and the reversal goes to whoever holds the card now, as head office counts it.
            check("reversal_members", movedReversals, "every reversal went to the card of the entry it reverses")

            let triggers = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger'"))
            let missing = ["entries_are_immutable", "entries_are_never_deleted", "entries_update_balance"].filter { !triggers.contains($0) }
            check("immutability", missing.map { "trigger \($0) is missing" }, "entries cannot be edited or deleted")

            let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check")
            check("integrity", integrity == ["ok"] ? [] : integrity, "SQLite integrity_check: ok")

            return VerificationReport(checks: checks, members: members, entries: entries)
        }
    }
}
