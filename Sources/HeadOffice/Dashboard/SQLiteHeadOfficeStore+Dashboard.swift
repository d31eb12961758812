public import Foundation
import GRDB
import LoyaltyCore

extension SQLiteHeadOfficeStore {
    public func dailyTotals(sinceMilliseconds: Int64, calendar: ChainCalendar) async throws -> [DailyStoreTotal] {
        try await pool.read { db in
            let quarters = try Row.fetchAll(db, sql: Self.dailyTotalsSQL, arguments: [sinceMilliseconds]).map {
                DailyStoreTotal(
                    storeId: $0[0], day: $0[1], salesMinor: $0[2], pointsEarned: $0[3], pointsRedeemed: $0[4],
                    entries: $0[5])
            }
            return DailyStoreTotal.foldedIntoDays(quarters, calendar: calendar)
        }
    }

    public func tierCounts(now: Date) async throws -> [String: Int] {
        try await pool.read { db in
            let program = HeadOfficeProgram.inForce(try Self.programs(db), now: now)
            var counts: [String: Int] = [:]
            let rows = try Row.fetchCursor(
                db, sql: Self.tierInputsSQL,
                arguments: [now.milliseconds - HeadOfficeProgram.rollingWindowMilliseconds])
            while let row = try rows.next() {
                let progress = TierProgress(spendMinorUnits: row[1], pointsEarned: row[2])
                counts[HeadOfficeProgram.tier(progress: progress, reviewed: row[0], program: program), default: 0] +=
                    row[3] as Int
            }
            return counts
        }
    }

    /// Sums per store and quarter hour (folded into chain days by the caller); the time index limits the
    /// scan to the days shown.
    static let dailyTotalsSQL = """
        SELECT store_id, created_at_ms / \(DailyStoreTotal.bucketMilliseconds) AS quarter, SUM(amount_minor),
               SUM(CASE WHEN kind IN ('earn', 'bonus') THEN points ELSE 0 END),
               -SUM(CASE WHEN kind = 'redeem' THEN points ELSE 0 END), COUNT(*)
        FROM hq_entries WHERE created_at_ms >= ? GROUP BY store_id, quarter
        """

    /// The members by reviewed tier, 12-month spend and points earned (members without entries in the window too),
    /// counted.
    static let tierInputsSQL = """
        SELECT m.reviewed_tier, IFNULL(s.spend, 0), IFNULL(s.earned, 0), COUNT(*) FROM hq_members m
        LEFT JOIN (
            SELECT member_id, SUM(amount_minor) AS spend, SUM(\(TierBasis.pointsEarnedSQL)) AS earned
            FROM hq_tier_rows WHERE created_at_ms > ? GROUP BY member_id) s
        ON s.member_id = m.id
        WHERE \(AnalyticsQueries.isMember)
        GROUP BY 1, 2, 3
        """
}
