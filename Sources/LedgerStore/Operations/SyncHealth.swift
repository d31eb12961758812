public import Foundation
import GRDB

/// How far the store is behind head office, cheap enough to read on every metrics scrape.
public struct SyncHealth: Hashable, Sendable {
    /// Entries head office has not acknowledged yet.
    public var backlog: Int64
    public var lastSuccess: Date?
    public var lastError: String?
    public var lastErrorAt: Date?
}

extension LedgerDatabase {
    /// The sync backlog and the last sync's outcome (two indexed reads, no table scan).
    public func syncHealth() throws -> SyncHealth {
        try read { db in
            let lastSeq = try Int64.fetchOne(db, sql: "SELECT IFNULL(MAX(seq), 0) FROM entries") ?? 0
            let sync = try syncMeta(db)
            return SyncHealth(
                backlog: lastSeq - (try acknowledgedSeq(db)),
                lastSuccess: sync["last_sync_ok_ms"].flatMap(Int64.init).map { Date(millisecondsSince1970: $0) },
                lastError: sync["last_sync_error"],
                lastErrorAt: sync["last_sync_error_ms"].flatMap(Int64.init).map { Date(millisecondsSince1970: $0) })
        }
    }
}
