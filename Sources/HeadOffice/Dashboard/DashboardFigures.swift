public import Foundation
public import LoyaltyCore

/// One store's figures for one of the chain's days, for the dashboard's totals per store and day.
public struct DailyStoreTotal: Codable, Hashable, Sendable {
    public var storeId: String
    /// The chain's day (``ChainCalendar``: days since 1970-01-01 in the chain's time zone).
    public var day: Int
    /// Net sales in minor units (refunds subtract).
    public var salesMinor: Int64
    public var pointsEarned: Int64
    public var pointsRedeemed: Int64
    public var entries: Int64

    public init(
        storeId: String, day: Int, salesMinor: Int64, pointsEarned: Int64, pointsRedeemed: Int64, entries: Int64
    ) {
        self.storeId = storeId
        self.day = day
        self.salesMinor = salesMinor
        self.pointsEarned = pointsEarned
        self.pointsRedeemed = pointsRedeemed
        self.entries = entries
    }
}

/// The queries behind head office's dashboard, answered in the database: totals per store and day
/// (an index range on the entries' time), members per tier (streamed, memory bounded by the tiers).
public protocol DashboardFigures: Sendable {
    /// Totals per store and chain day for entries made at or after `sinceMilliseconds`, sorted by day and store.
    func dailyTotals(sinceMilliseconds: Int64, calendar: ChainCalendar) async throws -> [DailyStoreTotal]
    /// Members per tier now: the reviewed tier, or higher when the 12-month spend reached it since.
    func tierCounts(now: Date) async throws -> [String: Int]
}

extension DailyStoreTotal {
    /// Every time zone's offset is a whole number of quarter hours: the database sums per quarter hour,
    /// and the quarters are folded into the chain's days here (summer time included).
    static let bucketMilliseconds: Int64 = 900_000

    /// Folds per-quarter-hour sums (the bucket's `day` holds the quarter's number) into chain days.
    static func foldedIntoDays(_ quarters: [DailyStoreTotal], calendar: ChainCalendar) -> [DailyStoreTotal] {
        var days: [String: DailyStoreTotal] = [:]
        for quarter in quarters {
            let day = calendar.day(milliseconds: Int64(quarter.day) * bucketMilliseconds)
            let key = "\(day) \(quarter.storeId)"
            var total = days[key] ?? DailyStoreTotal(
                storeId: quarter.storeId, day: day, salesMinor: 0, pointsEarned: 0, pointsRedeemed: 0, entries: 0)
            total.salesMinor += quarter.salesMinor
            total.pointsEarned += quarter.pointsEarned
            total.pointsRedeemed += quarter.pointsRedeemed
            total.entries += quarter.entries
            days[key] = total
        }
        return days.values.sorted { ($0.day, $0.storeId) < ($1.day, $1.storeId) }
    }
}
