import GRDB

extension LedgerDatabase {
    /// Head office's epoch and pull scope as this till last adopted them (`chain` when never told); nil epoch: never
    /// pulled.
    public func headOfficeEpochAndPullScope() throws -> (epoch: String?, scope: String) {
        try read { db in
            let meta = try syncMeta(db)
            return (meta["hq_epoch"], meta["hq_pull_scope"] ?? "chain")
        }
    }

    /// Adopts the pull scope a page names (`chain` or `store`; nil: a head office that does not say, nothing
    /// changes) and returns the cursor to pull from. When the scope changes the pull starts again from 0: members
    /// changed before the cursor were never sent under the other scope. From `chain` to `store`, the members this
    /// till holds only from snapshots are forgotten first (found by attack: head office no longer sent their
    /// changes, so the till vouched for balances already spent elsewhere); a store's members come back with the
    /// pull, and any other card is asked for when met. Entries are never touched.
    /// A pull cut short afterwards leaves the forgetting done: what a till holds only from snapshots is never a
    /// fact of its own, and blocked cards stay (found by attack: a stolen card enrolled offline after the cut).
    public func adoptHeadOfficePullScope(_ scope: String?) throws -> Int64 {
        try write { db in
            let meta = try syncMeta(db)
            let cursor = Int64(meta["hq_cursor"] ?? "0") ?? 0
            // A till that never heard a scope had every member sent to it: the chain's.
            let held = meta["hq_pull_scope"] ?? "chain"
            guard let scope, scope == "chain" || scope == "store", scope != held else { return cursor }
            if scope == "store" { try forgetMembersHeldOnlyFromSnapshots(db) }
            try setMeta("hq_pull_scope", scope, db)
            try setMeta("hq_cursor", "0", db)
            return 0
        }
    }

    /// Forgets the members this till holds only from head office's snapshots: a member and those merged into it here
    /// are one group, and a group none of whose members has an entry here, or one another till of the store relayed,
    /// is forgotten whole (found by attack: a member merged at head office kept its stale snapshot here and was
    /// overspent). Its blocked cards stay, on a member holding only them, so they are still refused.
    private func forgetMembersHeldOnlyFromSnapshots(_ db: Database) throws {
        let links = try Row.fetchAll(db, sql: "SELECT id, merged_into FROM members").map {
            (id: $0[0] as Int64, into: $0[1] as Int64?)
        }
        let mergedInto = Dictionary(uniqueKeysWithValues: links.map { ($0.id, $0.into) })
        func group(_ member: Int64) -> Int64 {
            var member = member
            for _ in 0..<64 {
                guard let next = mergedInto[member] ?? nil else { break }
                member = next
            }
            return member
        }
        let withFacts =
            try Int64.fetchAll(db, sql: "SELECT DISTINCT member_id FROM entries")
            + Int64.fetchAll(
                db, sql: "SELECT DISTINCT c.member_id FROM cards c JOIN store_peer_entries p ON p.card = c.number")
        let groupsWithFacts = Set(withFacts.map(group))
        let forgotten = links.map(\.id).filter { !groupsWithFacts.contains(group($0)) }
        guard !forgotten.isEmpty else { return }
        // The members of a group point at each other: checked at commit, when the group is gone or unlinked.
        try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
        let statements = try [
            "DELETE FROM member_snapshots WHERE member_id = ?", "DELETE FROM coupons WHERE member_id = ?",
            "DELETE FROM head_office_entries WHERE member_id = ?",
            "DELETE FROM cards WHERE member_id = ? AND status <> 'blocked'",
            "UPDATE members SET merged_into = NULL WHERE id = ?",
            "DELETE FROM members WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM cards WHERE member_id = ?1)",
        ].map { try db.makeStatement(sql: $0) }
        for member in forgotten {
            for statement in statements { try statement.execute(arguments: [member]) }
        }
    }
}
