/// Overdrafts of redemptions at the tills of a store with several, judged by the member's balance at the
/// redemption's time (every entry dated up to it, on any card the member holds now), not by the order entries
/// reached head office: a till vouches for points another till of the store earned (through the store hub), so
/// its redemption may arrive first. Found by attack: such a redemption left the member "OVERDRAWN" for good;
/// and the other way, a real double spend whose earlier redemption arrived last was no longer listed. A
/// redemption at a one-box store is judged as it arrives, and by its time too: a till's redemption settled by its
/// time and a one-box store's that arrived first left a real double spend unlisted (found by attack).
enum StoreOverdrafts {
    /// Whether any overdraft of a till of a store with several is recorded (the settlement is skipped otherwise).
    static let anyRecorded = "SELECT 1 FROM hq_overdrafts WHERE store_id LIKE '%.%' LIMIT 1"

    /// The balance of the member `member` (an SQL expression) at the time `time` (an SQL expression).
    static func balance(member: String, at time: String) -> String {
        """
        (COALESCE((SELECT SUM(x.points) FROM hq_entries x JOIN hq_cards y ON y.card = x.card
                   WHERE y.member_id = \(member) AND x.created_at_ms <= \(time)), 0)
         + COALESCE((SELECT SUM(i.points) FROM hq_issued i
                     WHERE i.member_id = \(member) AND COALESCE(i.counts_at_ms, i.created_at_ms) <= \(time)), 0))
        """
    }

    /// Records the redemptions of the members `members` (an SQL condition on `c.member_id`), at any store, after
    /// which the balance at their time is below zero.
    static func record(members: String) -> String {
        let after = balance(member: "c.member_id", at: "e.created_at_ms")
        return """
            INSERT INTO hq_overdrafts (member_id, store_id, seq, balance_after, at_ms)
            SELECT c.member_id, e.store_id, e.seq, \(after), e.created_at_ms
            FROM hq_entries e JOIN hq_cards c ON c.card = e.card
            WHERE \(members) AND e.kind = 'redeem' AND \(after) < 0
            ON CONFLICT DO NOTHING
            """
    }

    /// Deletes the tills' overdrafts of the members `members` (an SQL condition on `member_id`) whose balance at
    /// the redemption's time is not below zero.
    static func settle(members: String) -> String {
        """
        DELETE FROM hq_overdrafts
        WHERE \(members) AND store_id LIKE '%.%'
          AND \(balance(member: "hq_overdrafts.member_id", at: "hq_overdrafts.at_ms")) >= 0
        """
    }

    /// Sets the flag of the members `members` (an SQL condition on `id`) as their overdrafts say.
    static func flags(members: String) -> String {
        """
        UPDATE hq_members SET overdrawn = EXISTS (SELECT 1 FROM hq_overdrafts o WHERE o.member_id = hq_members.id)
        WHERE \(members) AND overdrawn <> EXISTS (SELECT 1 FROM hq_overdrafts o WHERE o.member_id = hq_members.id)
        """
    }
}
