/// Head office schema v45: the time of a store's newest entry as counted (`hq_stores.entries_not_before_ms`). A
/// till's entries come in sequence, so none was made before the one before it: an entry dated earlier was dated
/// by a clock that ran behind and was set right before the till synced (a dead clock battery, a box that booted
/// in 2000 and sold before NTP answered), which head office can tell neither from its stated time nor from the
/// clock correction, zero by then. Found by attack: such a sale dated 400 days back left the member's 12-month
/// spend. It counts from the entry before it (the stated time is kept, so a resend is the same entry).
///
/// Not the arrival of the till's last push: tests and simulations date sales in the past and sync them at once,
/// which a real till cannot do but which must not change what they count.
enum LedgerTimeFloor {
    static let schemaVersion = 45

    static let column = "ALTER TABLE hq_stores ADD COLUMN entries_not_before_ms BIGINT"
    /// `IF NOT EXISTS`: the upgrade tests write their earlier history with today's ingest, which needs it.
    static let postgres: [String] = [
        column.replacingOccurrences(of: "ADD COLUMN", with: "ADD COLUMN IF NOT EXISTS"),
        "INSERT INTO hq_schema (version) VALUES (\(schemaVersion))",
    ]
    static let sqlite = column + ";"

    /// The store's floor after `plan`: its newest entry's time as counted.
    static func after(_ plan: IngestPlan, floor: Int64?) -> Int64? {
        guard let newest = plan.newEntries.map(\.createdAtMilliseconds).max() else { return floor }
        return max(floor ?? newest, newest)
    }
}
