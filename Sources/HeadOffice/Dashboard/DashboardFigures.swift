public import Foundation
public import LoyaltyCore

/// One store's figures for one UTC day, for the dashboard's totals per store and day.
public struct DailyStoreTotal: Codable, Hashable, Sendable {
    public var storeId: String
    /// Days since 1970-01-01 (UTC).
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
    /// Totals per store and UTC day for entries made at or after `sinceMilliseconds`.
    func dailyTotals(sinceMilliseconds: Int64) async throws -> [DailyStoreTotal]
    /// Members per tier now: the reviewed tier, or higher when the 12-month spend reached it since.
    func tierCounts(now: Date) async throws -> [String: Int]
}
