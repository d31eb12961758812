/// Head office schema v44: `hq_tier_rows` (a member's 12-month figures, ``HeadOfficeSchema``) in a shape whose
/// window can be read from the indexes. A return counts at its sale's time, and the view computed that time for
/// every entry (`CASE … END AS created_at_ms`), so a condition on the window could not reach the index by member
/// and time: a pull or a look-up read the member's whole history and kept the last 12 months of it (found by
/// the growth benchmark: the figures grew with history the window does not hold).
///
/// Now entries that count at their own time are one branch (the window's condition goes to the index, and on
/// PostgreSQL past months' partitions are skipped) and returns that name their sale another, read from a
/// partial index of returns by member. The rows are the same as before: a return naming its sale counts at
/// the sale's time, or at its own when head office does not have the sale.
enum TierRowsByWindow {
    static let schemaVersion = 44

    static let entriesByWindow = """
            SELECT e.member_id, e.kind, e.points, e.amount_minor, e.created_at_ms
            FROM hq_entries e WHERE e.kind <> 'reverse' OR e.refers_to_seq IS NULL
            UNION ALL
        \(returnsJoiningTheirSale)
        """

    /// The returns that name their sale, each at the sale's time (at its own when head office lacks the sale).
    static let returnsJoiningTheirSale = """
            SELECT e.member_id, e.kind, e.points, e.amount_minor, COALESCE(s.created_at_ms, e.created_at_ms)
            FROM hq_entries e LEFT JOIN hq_entries s
                ON s.store_id = COALESCE(e.refers_to_store, e.store_id) AND s.seq = e.refers_to_seq
            WHERE e.kind = 'reverse' AND e.refers_to_seq IS NOT NULL
        """

    /// The view of v34 (``HeadOfficeSchema/tierRowsCountedAtTheirGrant``) with its entries in two branches.
    static var view: String {
        let earlier = HeadOfficeSchema.tierRowsCountedAtTheirGrant
        precondition(earlier.contains(HeadOfficeSchema.tierRowsEntriesAtTheirSale), "the v34 view's entries branch")
        return earlier.replacingOccurrences(of: HeadOfficeSchema.tierRowsEntriesAtTheirSale, with: entriesByWindow)
    }

    static let returnsIndex = """
        CREATE INDEX hq_entries_member_returns ON hq_entries (member_id)
            WHERE kind = 'reverse' AND refers_to_seq IS NOT NULL
        """

    /// Same columns, same names and types: `CREATE OR REPLACE` keeps the grants a server role was given.
    static let postgres: [String] = [
        view.replacingOccurrences(of: "CREATE VIEW", with: "CREATE OR REPLACE VIEW"),
        returnsIndex,
        "INSERT INTO hq_schema (version) VALUES (\(schemaVersion))",
    ]

    static let sqlite = "DROP VIEW hq_tier_rows;\n\(view);\n\(returnsIndex);"
}

extension PostgresHeadOfficeStore {
    /// Schema v43's `hq_tier_rows` (each entry's time computed, so no index reaches the window), as a statement
    /// that puts it back: the baseline a benchmark measures v44 against in the same run.
    public static let tierRowsBeforeWindowStatement = HeadOfficeSchema.tierRowsCountedAtTheirGrant
        .replacingOccurrences(of: "CREATE VIEW", with: "CREATE OR REPLACE VIEW")
}
