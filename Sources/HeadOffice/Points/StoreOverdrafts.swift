/// Overdrafts of redemptions, at any store, judged by the member's balance at the redemption's time (every entry
/// dated up to it, on any card the member holds now), not by the order entries reached head office: a till
/// vouches for points another till of the store earned (through the store hub), so its redemption may arrive
/// first. Found by attack: such a redemption left the member "OVERDRAWN" for good; and the other way, a real
/// double spend whose earlier redemption arrived last was no longer listed, or was listed on the wrong store's
/// redemption, or with the balance after its arrival instead of at its time (found by review and attack).
enum StoreOverdrafts {
    /// The balance of the member `member` (an SQL expression) just after the entry `e` (an alias of `hq_entries`,
    /// dated at or after `since`): the member's balance now (`hq_members.balance`, the sum of its entries and head
    /// office's, which ingest and merges update before they judge) less the entries after `e` and head office's
    /// counted after it. Of the entries in `e`'s millisecond, the ones that arrived first count (two redemptions in one
    /// millisecond at two stores are judged in arrival order, then by store and sequence).
    ///
    /// Only entries from `since` on are read, a literal, so PostgreSQL plans only those months (summing every entry
    /// up to `e` planned every month's table for each judged batch; found by the growth benchmark).
    static func balance(member: String, after e: String, since: Int64) -> String {
        """
        ((SELECT b.balance FROM hq_members b WHERE b.id = \(member))
         - COALESCE((SELECT SUM(x.points) FROM hq_entries x
                     WHERE x.member_id = \(member) AND \(notBefore("x.created_at_ms", since))
                       AND x.created_at_ms >= \(e).created_at_ms
                       AND (x.created_at_ms, x.received_at_ms, x.store_id, x.seq)
                           > (\(e).created_at_ms, \(e).received_at_ms, \(e).store_id, \(e).seq)), 0)
         - COALESCE((SELECT SUM(i.points) FROM hq_issued i
                     WHERE i.member_id = \(member)
                       AND COALESCE(i.counts_at_ms, i.created_at_ms) > \(e).created_at_ms), 0))
        """
    }

    /// Records the redemptions of the members `members` (an SQL condition on `e.member_id`) dated from `since` on, at
    /// any store, after which the balance at their time is below zero; one recorded before gets the balance as it
    /// stands now.
    static func record(members: String, since: Int64) -> String {
        let after = balance(member: "e.member_id", after: "e", since: since)
        return """
            INSERT INTO hq_overdrafts (member_id, store_id, seq, balance_after, at_ms)
            SELECT e.member_id, e.store_id, e.seq, \(after), e.created_at_ms
            FROM hq_entries e
            WHERE \(members) AND e.kind = 'redeem' AND \(notBefore("e.created_at_ms", since)) AND \(after) < 0
            ON CONFLICT (store_id, seq)
                DO UPDATE SET balance_after = excluded.balance_after, member_id = excluded.member_id
            """
    }

    /// Deletes the overdrafts of the members `members` (an SQL condition on `member_id`) dated from `since` on whose
    /// balance at the redemption's time is not below zero (an earlier sale arrived since).
    static func settle(members: String, since: Int64) -> String {
        """
        DELETE FROM hq_overdrafts
        WHERE \(members) AND \(notBefore("at_ms", since))
          AND EXISTS (SELECT 1 FROM hq_entries e
                      WHERE e.store_id = hq_overdrafts.store_id AND e.seq = hq_overdrafts.seq
                        AND e.created_at_ms = hq_overdrafts.at_ms AND \(notBefore("e.created_at_ms", since))
                        AND \(balance(member: "hq_overdrafts.member_id", after: "e", since: since)) >= 0)
        """
    }

    /// `column` at or after `since`; always true from `Int64.min` (whose literal PostgreSQL reads as a numeric).
    private static func notBefore(_ column: String, _ since: Int64) -> String {
        since == .min ? "TRUE" : "\(column) >= \(since)"
    }

    /// The statements that judge again the overdrafts of the members `memberId` selects (the driver's condition on a
    /// member id: `= ANY($1::bigint[])`, `= ?1`), in order: record, settle, set the flags. Only redemptions dated
    /// from `since` on are judged: an entry changes the balance after its own time only, so a batch's earliest entry
    /// is enough (a merge, which moves whole histories, judges from `Int64.min`).
    static func judge(memberId condition: String, since: Int64) -> [String] {
        [
            record(members: "e.member_id \(condition)", since: since),
            settle(members: "member_id \(condition)", since: since), flags(members: "id \(condition)"),
        ]
    }

    /// Whether head office's own entry `entry` has its member's overdrafts judged again when written. Such entries
    /// count at their time, often before a redemption already judged: points given (a missing bonus paid, counted at
    /// its sale) settle an overdraft they cover, and an expiry at the end of its day makes a later redemption of the
    /// lapsed points an overdraft (found by attack: neither was judged until the member's next redemption, and since
    /// a batch judges only from its own earliest entry, never). Points head office takes back (a sale repriced, a
    /// bonus withdrawn) are not judged here: the redemption did not overdraw, the correction did, and the member is
    /// listed below zero by correction.
    static func judgesAgain(_ entry: IssuedEntryRequest) -> Bool {
        entry.points > 0 || entry.kind == .expire
    }

    /// The earliest time at which any of `entries` that ``judgesAgain(_:)`` counts.
    static func judgedSince(_ entries: [IssuedEntryRequest]) -> Int64 {
        entries.filter(judgesAgain).map { $0.countsAtMilliseconds ?? $0.createdAtMilliseconds }.min() ?? .min
    }

    /// Sets the flag of the members `members` (an SQL condition on `id`) as their overdrafts say.
    static func flags(members: String) -> String {
        """
        UPDATE hq_members SET overdrawn = EXISTS (SELECT 1 FROM hq_overdrafts o WHERE o.member_id = hq_members.id)
        WHERE \(members) AND overdrawn <> EXISTS (SELECT 1 FROM hq_overdrafts o WHERE o.member_id = hq_members.id)
        """
    }
}
