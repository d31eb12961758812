/// Head office schema v43 (PostgreSQL): a member's entries carry, in the index by member and time, every
/// column the member's own figures read (12-month spend and points, purchases, sales since enrolment, the
/// day's points), so a pull or a look-up reads a few index pages per month instead of one table page per
/// entry: a member's entries lie spread over the months they bought in, and once history outgrows memory
/// each of them was a disk read (a pull's 500 members: 170,000 pages read at 10 M entries).
///
/// The index replaces `hq_entries_member_time` (same leading columns); index-only reads need the table's
/// visibility map, which PostgreSQL's autovacuum keeps (entries are never updated but by a merge).
/// SQLite keeps its index: its head office is the single-box default.
enum MemberFiguresIndex {
    static let schemaVersion = 43

    static let postgres: [String] = [
        """
        CREATE INDEX hq_entries_member_figures ON hq_entries (member_id, created_at_ms)
            INCLUDE (kind, points, amount_minor, store_id, refers_to_seq, refers_to_store)
        """,
        "DROP INDEX hq_entries_member_time",
        "INSERT INTO hq_schema (version) VALUES (\(schemaVersion))",
    ]
}
