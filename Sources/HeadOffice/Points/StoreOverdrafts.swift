/// Overdrafts recorded for a redemption at one till of a store with several that the store's other tills'
/// entries, arriving later, show was covered (found by attack: a till vouched for points a sale at another
/// till of the store had earned, both via the store hub; the redemption reached head office first and the
/// member was flagged "OVERDRAWN" for good). Such an overdraft stands only while the member's balance at the
/// redemption's time, counting every entry dated up to it, is below zero. Between stores nothing changes:
/// a store vouches only for what head office had sent it.
enum StoreOverdrafts {
    /// Whether any overdraft of a till of a store with several is recorded (the settlement is skipped otherwise).
    static let anyRecorded = "SELECT 1 FROM hq_overdrafts WHERE store_id LIKE '%.%' LIMIT 1"

    /// Deletes the tills' overdrafts of the members `membersPredicate` selects (an SQL condition on
    /// `member_id`) whose balance at the redemption's time is not below zero.
    static func settle(membersPredicate: String) -> String {
        """
        DELETE FROM hq_overdrafts
        WHERE \(membersPredicate) AND store_id LIKE '%.%'
          AND COALESCE((SELECT SUM(e.points) FROM hq_entries e
                        WHERE e.member_id = hq_overdrafts.member_id AND e.created_at_ms <= hq_overdrafts.at_ms), 0)
            + COALESCE((SELECT SUM(i.points) FROM hq_issued i
                        WHERE i.member_id = hq_overdrafts.member_id
                          AND COALESCE(i.counts_at_ms, i.created_at_ms) <= hq_overdrafts.at_ms), 0) >= 0
        """
    }

    /// Clears the flag of the members `membersPredicate` (on `id`) left without any overdraft.
    static func clearFlags(membersPredicate: String) -> String {
        """
        UPDATE hq_members SET overdrawn = FALSE
        WHERE \(membersPredicate) AND overdrawn
          AND NOT EXISTS (SELECT 1 FROM hq_overdrafts o WHERE o.member_id = hq_members.id)
        """
    }
}
