/// What happens to a sale imported from the old system (`loyalty-hq import`) when a store's ledger brings a sale
/// on the same receipt.
///
/// An import names a store as the old system did (`north`); a store with several tills syncs a ledger per till
/// (`north.1`). A till's sale supersedes an imported sale of its own ledger's name or of its store's (found by
/// review: the same sale counted twice, once from `north.1` and once from the import of `north`).
enum ImportedSaleQueries {
    /// The ledger's sale is the fact: the imported copy of that receipt (its sale and refunds) goes, so nothing
    /// counts twice. Only when it is the same member's: another member's sale on a receipt number the old system
    /// also used is another sale, and stays (found by attack: it vanished from that member's 12-month spend, and
    /// no till heard of it). `?1` the ledger, `?2` receipt, `?3` the ledger sale's card, `?4` the ledger's store.
    static let deleteSupersededSQLite = """
        DELETE FROM hq_imported_sales
        WHERE store_id IN (?1, ?4) AND receipt = ?2 AND member_id = (SELECT member_id FROM hq_cards WHERE card = ?3)
        """

    /// After a merge, the same rule for the member kept (`member`, the driver's placeholder): an imported sale of
    /// theirs that one of their ledger sales brings (same receipt, the store or one of its tills) goes (found by
    /// attack: a till that added an imported card to its member and sold on the imported receipt in one batch, and
    /// `members merge` of the two records, counted the sale twice).
    static func deleteSuperseded(ofMember member: String) -> String {
        """
        DELETE FROM hq_imported_sales
        WHERE member_id = \(member) AND EXISTS (
            SELECT 1 FROM hq_entries e
            WHERE e.member_id = \(member) AND e.kind = 'earn' AND e.receipt = hq_imported_sales.receipt
              AND \(StoreLedgers.ledger("e.store_id", isOfStore: "hq_imported_sales.store_id")))
        """
    }
}
