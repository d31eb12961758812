/// What happens to a sale imported from the old system (`loyalty-hq import`) when a store's ledger brings a sale
/// on the same receipt.
enum ImportedSaleQueries {
    /// The ledger's sale is the fact: the imported copy of that receipt (its sale and refunds) goes, so nothing
    /// counts twice. Only when it is the same member's: another member's sale on a receipt number the old system
    /// also used is another sale, and stays (found by attack: it vanished from that member's 12-month spend, and
    /// no till heard of it). `?1` store, `?2` receipt, `?3` the ledger sale's card.
    static let deleteSupersededSQLite = """
        DELETE FROM hq_imported_sales
        WHERE store_id = ?1 AND receipt = ?2 AND member_id = (SELECT member_id FROM hq_cards WHERE card = ?3)
        """
}
