import GRDB
import LoyaltyCore

/// Members merged into another here: a card sold as unknown (a provisional member, or an unknown record head
/// office described), then added to a member with `cards add`. Their entries are the member's. Until head
/// office's snapshot of the member includes the `cards add` (head office has joined the two: `merged_at_seq`
/// at most the snapshot's store sequence), a merged member is *separate*: it counts on its own standing, its
/// own snapshot from head office included; after that it is *covered*, and its entries newer than the
/// member's snapshot count like the member's own.
extension LedgerDatabase {
    /// Points of the separate merged members of `?1` whose merge the basis `?2` (the member's snapshot's store
    /// sequence, 0 without one) does not cover: each one's snapshot plus its entries after it, or its entries.
    static let separateMergedPoints = """
        SELECT IFNULL(SUM(CASE WHEN gs.member_id IS NULL THEN g.balance
                               ELSE gs.balance + (SELECT IFNULL(SUM(e.points), 0) FROM entries e
                                                  WHERE e.member_id = g.id AND e.seq > gs.includes_store_seq) END), 0)
        FROM members g LEFT JOIN member_snapshots gs ON gs.member_id = g.id
        WHERE g.merged_into = ?1 AND IFNULL(g.merged_at_seq, 0) > ?2
        """

    /// The covered merged members of `?1` for the basis `?2`, as a sub-select of ids.
    static let coveredMergedMembers = """
        SELECT id FROM members WHERE merged_into = ?1 AND IFNULL(merged_at_seq, 0) <= ?2
        """

    /// 12-month figures of the separate merged members of `?1` (basis `?3`, window start `?2`): their
    /// snapshots' figures plus their entries after their snapshots (all of them without one).
    static let separateMergedRolling = """
        SELECT IFNULL(SUM(spend), 0), IFNULL(SUM(points), 0) FROM (
            SELECT gs.rolling_spend_minor AS spend, IFNULL(gs.rolling_points_earned, 0) AS points
            FROM members g JOIN member_snapshots gs ON gs.member_id = g.id
            WHERE g.merged_into = ?1 AND IFNULL(g.merged_at_seq, 0) > ?3
            UNION ALL
            SELECT e.amount_minor, \(TierBasis.pointsEarnedSQL)
            FROM members g LEFT JOIN member_snapshots gs ON gs.member_id = g.id JOIN entries e ON e.member_id = g.id
            WHERE g.merged_into = ?1 AND IFNULL(g.merged_at_seq, 0) > ?3
              AND e.seq > IFNULL(gs.includes_store_seq, 0) AND \(countedAt("e")) > ?2)
        """

    /// Points of the members merged into `memberId` for a basis, in one statement: the separate ones' standing
    /// (``separateMergedPoints``) and the covered ones' entries after the basis.
    func mergedPoints(into memberId: Int64, basis: Int64, _ db: Database) throws -> Int64 {
        try db.cachedStatement(
            sql: """
                SELECT (\(Self.separateMergedPoints))
                     + (SELECT IFNULL(SUM(points), 0) FROM entries WHERE seq > ?2 AND member_id IN (\(Self.coveredMergedMembers)))
                """
        ).firstRow([.integer(memberId), .integer(basis)]) { $0.int64(0) } ?? 0
    }

    /// 12-month figures of the separate merged members of `memberId` (see ``separateMergedRolling``).
    func separateMergedRolling(into memberId: Int64, windowStart: Int64, basis: Int64, _ db: Database) throws -> TierProgress {
        try db.cachedStatement(sql: Self.separateMergedRolling).firstRow(
            [.integer(memberId), .integer(windowStart), .integer(basis)]
        ) { TierProgress(spendMinorUnits: $0.int64(0), pointsEarned: $0.int64(1)) } ?? TierProgress(spendMinorUnits: 0, pointsEarned: 0)
    }
}
