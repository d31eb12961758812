public import Foundation
import GRDB

/// The time this till writes on its entries: its own clock, moved by how far head office's clock is from it
/// when a sync learnt that (a `stale` refusal). Found by attack: a till 20 minutes behind dated a sale on the
/// day before, where the per-day cap of the member's real day did not reach it (+300 points, nothing
/// reconciled). Operations given a time (`at:`) use it as given.
extension LedgerDatabase {
    /// The largest difference followed (as the sync client's): beyond it the clock is a configuration error.
    public static let maximumHeadOfficeClockOffsetMilliseconds: Int64 = 7 * 86_400_000

    /// Head office's time minus this till's, as last learnt (0 when never).
    public var headOfficeClockOffsetMilliseconds: Int64 { headOfficeClockOffset.withLock { $0 } }

    /// Now, by head office's clock as last learnt.
    public func headOfficeNow(_ local: Date = Date()) -> Date {
        local.addingTimeInterval(Double(headOfficeClockOffsetMilliseconds) / 1000)
    }

    /// Keeps how far head office's clock is from this till's (a later process starts from it).
    public func recordHeadOfficeClockOffset(milliseconds: Int64) throws {
        guard milliseconds.magnitude <= UInt64(Self.maximumHeadOfficeClockOffsetMilliseconds) else { return }
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO store_meta (key, value) VALUES ('hq_clock_offset_ms', ?)
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value
                    """,
                arguments: [String(milliseconds)])
        }
        headOfficeClockOffset.withLock { $0 = milliseconds }
    }

    /// The offset kept in the ledger's meta (0 when none or out of bounds).
    static func storedHeadOfficeClockOffset(_ db: Database) throws -> Int64 {
        let stored = try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'hq_clock_offset_ms'")
        guard let offset = stored.flatMap({ Int64($0) }),
            offset.magnitude <= UInt64(maximumHeadOfficeClockOffsetMilliseconds)
        else { return 0 }
        return offset
    }
}
