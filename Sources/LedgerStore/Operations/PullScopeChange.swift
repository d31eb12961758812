import GRDB

extension LedgerDatabase {
    /// Members this till holds only from head office's snapshots: no entry of theirs was ever written here, no
    /// other till of the store relayed one, and no member was merged into or from them here.
    static let heldOnlyFromSnapshots = """
        NOT EXISTS (SELECT 1 FROM entries e WHERE e.member_id = m.id)
        AND m.merged_into IS NULL AND NOT EXISTS (SELECT 1 FROM members g WHERE g.merged_into = m.id)
        AND NOT EXISTS (SELECT 1 FROM cards c JOIN store_peer_entries p ON p.card = c.number WHERE c.member_id = m.id)
        """

    /// Adopts the pull scope a page names (`chain` or `store`; nil: a head office that does not say, nothing
    /// changes) and returns the cursor to pull from. When the scope changes the pull starts again from 0: members
    /// changed before the cursor were never sent under the other scope. From `chain` to `store`, the members this
    /// till holds only from snapshots are forgotten first (found by attack: head office no longer sent their
    /// changes, so the till vouched for balances already spent elsewhere); a store's members come back with the
    /// pull, and any other card is asked for when met. Entries are never touched.
    public func adoptHeadOfficePullScope(_ scope: String?) throws -> Int64 {
        try write { db in
            let meta = try syncMeta(db)
            let cursor = Int64(meta["hq_cursor"] ?? "0") ?? 0
            // A till that never heard a scope had every member sent to it: the chain's.
            let held = meta["hq_pull_scope"] ?? "chain"
            guard let scope, scope == "chain" || scope == "store", scope != held else { return cursor }
            if scope == "store" {
                let forgotten = try Int64.fetchAll(
                    db, sql: "SELECT m.id FROM members m WHERE \(Self.heldOnlyFromSnapshots)")
                let statements =
                    try ["cards", "member_snapshots", "coupons", "head_office_entries"].map {
                        try db.makeStatement(sql: "DELETE FROM \($0) WHERE member_id = ?")
                    } + [try db.makeStatement(sql: "DELETE FROM members WHERE id = ?")]
                for member in forgotten {
                    for statement in statements { try statement.execute(arguments: [member]) }
                }
            }
            try setMeta("hq_pull_scope", scope, db)
            try setMeta("hq_cursor", "0", db)
            return 0
        }
    }
}
