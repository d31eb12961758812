/// Head office schema v49: the members who hold a coupon of a store's, found from an index of just them.
///
/// A pull asks which of its page's members hold a coupon (``MemberLedgerTotals/holdingCoupons(members:)``) so
/// that the others' entries are not read. Read from the table, the question visited every store ledger's row of
/// every member on the page, a row for each store the member ever bought at (found by the growth benchmark:
/// 7.6 million rows for 200,000 members at 10 M entries, 75 ms of every page of 500, a quarter of a pull). The
/// partial index holds only rows with a coupon entry; a sale leaves `coupons` as it was, so its update of the
/// row stays a heap-only update.
enum MemberCouponIndex {
    static let schemaVersion = 49

    /// `IF NOT EXISTS`: an operator may have made it by hand from these notes before upgrading.
    static let index = """
        CREATE INDEX IF NOT EXISTS hq_member_ledgers_coupons ON hq_member_ledgers (member_id) WHERE coupons > 0
        """

    static let postgres: [String] = [index, "INSERT INTO hq_schema (version) VALUES (\(schemaVersion))"]

    static let sqliteMigration = "hq-v49-member-coupon-index"
    static let sqlite = "\(index);"
}
