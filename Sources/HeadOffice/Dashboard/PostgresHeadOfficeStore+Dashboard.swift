public import Foundation
import LoyaltyCore
import PostgresNIO

extension PostgresHeadOfficeStore {
    public func dailyTotals(sinceMilliseconds: Int64, calendar: ChainCalendar) async throws -> [DailyStoreTotal] {
        var result: [DailyStoreTotal] = []
        var bindings = PostgresBindings()
        bindings.append(sinceMilliseconds)
        let rows = try await client.query(
            PostgresQuery(unsafeSQL: Self.dailyTotalsSQL, binds: bindings), logger: logger)
        for try await (store, day, sales, earned, redeemed, entries) in rows.decode(
            (String, Int64, Int64, Int64, Int64, Int64).self)
        {
            result.append(
                DailyStoreTotal(
                    storeId: store, day: Int(day), salesMinor: sales, pointsEarned: earned, pointsRedeemed: redeemed,
                    entries: entries))
        }
        return DailyStoreTotal.foldedIntoDays(result, calendar: calendar)
    }

    public func tierCounts(now: Date) async throws -> [String: Int] {
        let logger = self.logger
        return try await client.withConnection { connection in
            let program = HeadOfficeProgram.inForce(try await Self.programs(connection, logger), now: now)
            var bindings = PostgresBindings()
            bindings.append(now.milliseconds - HeadOfficeProgram.rollingWindowMilliseconds)
            var counts: [String: Int] = [:]
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: Self.tierInputsSQL, binds: bindings), logger: logger)
            for try await (reviewed, spend, earned, members) in rows.decode((String?, Int64, Int64, Int64).self) {
                let progress = TierProgress(spendMinorUnits: spend, pointsEarned: earned)
                counts[HeadOfficeProgram.tier(progress: progress, reviewed: reviewed, program: program), default: 0] +=
                    Int(members)
            }
            return counts
        }
    }

    static let dailyTotalsSQL = """
        SELECT store_id, (created_at_ms / \(DailyStoreTotal.bucketMilliseconds))::bigint AS quarter, SUM(amount_minor)::bigint,
               SUM(CASE WHEN kind IN ('earn', 'bonus') THEN points ELSE 0 END)::bigint,
               (-SUM(CASE WHEN kind = 'redeem' THEN points ELSE 0 END))::bigint, COUNT(*)::bigint
        FROM hq_entries WHERE created_at_ms >= $1 GROUP BY store_id, quarter
        """

    /// The members by reviewed tier, 12-month spend and points earned, counted: the members who bought nothing in
    /// the window (most of a chain's, as its history grows) come as one row per reviewed tier, not one each.
    static let tierInputsSQL = """
        SELECT m.reviewed_tier, COALESCE(s.spend, 0)::bigint, COALESCE(s.earned, 0)::bigint, COUNT(*)::bigint
        FROM hq_members m
        LEFT JOIN (
            SELECT member_id, SUM(amount_minor) AS spend, SUM(\(TierBasis.pointsEarnedSQL)) AS earned
            FROM hq_tier_rows WHERE created_at_ms > $1 GROUP BY member_id) s
        ON s.member_id = m.id
        WHERE \(AnalyticsQueries.isMember)
        GROUP BY 1, 2, 3
        """
}
