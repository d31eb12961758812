/// A head-office database that a newer `loyalty-hq` has upgraded: this one does not know what the newer one keeps
/// (found by attack: an older binary's `members merge` moved the entries but not the per-store totals of v46, and
/// the member's look-up lost a store). Refused when the database is opened; every process is upgraded first.
public struct NewerSchemaRefusal: Error, Sendable, CustomStringConvertible {
    /// The database's newest schema (its migration's name on SQLite, its version number on PostgreSQL).
    public var found: String
    /// The newest this binary knows.
    public var known: String

    public var description: String {
        "this head-office database was upgraded by a newer loyalty-hq (schema \(found); this one knows up to "
            + "\(known)): upgrade loyalty-hq on every head-office server before using it"
    }
}
