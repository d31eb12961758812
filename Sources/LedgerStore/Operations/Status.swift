public import Foundation
import GRDB
import LoyaltyCore

extension LedgerDatabase {
    /// The numbers a store manager checks: members, today's totals (the chain's day), the backlog not yet
    /// acknowledged by head office, database size and health.
    public func status(at now: Date? = nil) throws -> StoreStatus {
        // The day by head office's clock, as entries are dated (a till's own clock may be off).
        let now = now ?? headOfficeNow()
        return try read { db in
            let program = try currentProgram(db)
            // Today in the chain's time zone (a day may be 23 or 25 hours long).
            let calendar = Self.calendar(program.chainTimeZone)
            let startOfDay = calendar.startOfDay(for: now)
            let dayStart = startOfDay.millisecondsSince1970
            let dayEnd =
                (calendar.date(byAdding: .day, value: 1, to: startOfDay) ?? startOfDay.addingTimeInterval(86_400))
                .millisecondsSince1970
            let today = try Row.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*),
                           IFNULL(SUM(CASE WHEN kind IN ('earn', 'bonus') THEN points END), 0),
                           IFNULL(-SUM(CASE WHEN kind = 'redeem' THEN points END), 0),
                           IFNULL(-SUM(CASE WHEN kind = 'reverse' AND points < 0 THEN points END), 0),
                           IFNULL(SUM(amount_minor), 0)
                    FROM entries WHERE created_at >= ? AND created_at < ?
                    """,
                arguments: [dayStart, dayEnd])!
            let lastSeq = try Int64.fetchOne(db, sql: "SELECT IFNULL(MAX(seq), 0) FROM entries") ?? 0
            let entryCount = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM entries") ?? 0
            let acknowledged =
                Int64(
                    try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'hq_acknowledged_seq'")
                        ?? "0") ?? 0
            let quickCheck = try String.fetchAll(db, sql: "PRAGMA quick_check")
            let sync = try syncMeta(db)
            let journalMode = try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "unknown"
            let hub = try Row.fetchOne(
                db,
                sql: """
                    SELECT (SELECT json_array_length(value) FROM store_meta WHERE key = 'store_tills' AND json_valid(value)),
                           (SELECT CAST(value AS INTEGER) FROM store_meta WHERE key = 'hub_last_exchange_ms'),
                           (SELECT CAST(value AS INTEGER) FROM store_meta WHERE key = 'hub_acknowledged')
                    """)
            let lastExchange = (hub?[1] as Int64?).map {
                Date(millisecondsSince1970: $0).chainTime(program.chainTimeZone)
            }
            var status = StoreStatus(
                storeId: assignedStoreId, ledgerId: ledgerId,
                members: try Int64.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM members m WHERE NOT \(Self.holdsOnlyBlockedCards)") ?? 0,
                entries: entryCount, lastSeq: lastSeq, acknowledgedSeq: acknowledged,
                unsyncedEntries: lastSeq - acknowledged,
                lastSyncSuccess: sync["last_sync_ok_ms"].flatMap(Int64.init).map {
                    Date(millisecondsSince1970: $0).chainTime(program.chainTimeZone)
                },
                lastSyncError: sync["last_sync_error"],
                lastSyncErrorAt: sync["last_sync_error_ms"].flatMap(Int64.init).map {
                    Date(millisecondsSince1970: $0).chainTime(program.chainTimeZone)
                },
                offlineSince: sync["offline_since_ms"].flatMap(Int64.init).map {
                    Date(millisecondsSince1970: $0).chainTime(program.chainTimeZone)
                },
                day: Date(millisecondsSince1970: dayStart).chainTime(program.chainTimeZone),
                timeZone: program.chainTimeZone,
                entriesToday: today[0], pointsIssuedToday: today[1], pointsRedeemedToday: today[2],
                pointsReversedToday: today[3],
                salesToday: Money(minorUnits: today[4], currency: program.currency).decimalString,
                currency: program.currency.code, programVersion: program.version, databasePath: path,
                databaseBytes: fileSize(path) + fileSize(path + "-wal"), journalMode: journalMode,
                health: quickCheck == ["ok"] ? "ok" : quickCheck.prefix(3).joined(separator: "; "))
            if let lastExchange {
                status.storeHubTills = hub?[0] ?? 0
                status.lastStoreHubExchange = lastExchange
                status.storeHubAcknowledged = hub?[2] ?? 0
            }
            return status
        }
    }

    private func fileSize(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
    }
}
