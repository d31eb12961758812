import Foundation
import HeadOffice
import LoyaltyCore

/// `report expiring --within 30d`: members whose points lapse soon, for a reminder before they do.
enum ExpiringReport {
    /// `30d`, `30` (days) or `4w`.
    static func days(_ text: String) throws -> Int {
        let lower = text.lowercased()
        let (digits, factor) = lower.hasSuffix("w") ? (String(lower.dropLast()), 7) : (lower.hasSuffix("d") ? String(lower.dropLast()) : lower, 1)
        // Overflow-safe: the text comes from the command line.
        guard let value = Int(digits), case let (days, overflow) = value.multipliedReportingOverflow(by: factor), !overflow,
            (1...3_650).contains(days)
        else {
            throw CommandFailure(code: "bad_within", message: "--within takes days like 30d (or weeks like 4w), 1 day to 10 years", exitCode: 2)
        }
        return value * factor  // checked above: no overflow
    }

    static func table(_ storage: StorageOptions, asOf: String?, within: String) async throws -> ReportTable {
        let withinDays = try days(within)
        let requested = try asOf.map { text -> Int in
            guard let day = ChainCalendar.day(text) else {
                throw CommandFailure(code: "bad_date", message: "--as-of takes a date like 2026-03-31, not '\(text)'", exitCode: 2)
            }
            return day
        }
        let (rows, asOfDay) = try await storage.withReportStore { store in
            let calendar = try ChainCalendar(identifier: try await store.chainTimeZone())
            let day = requested ?? calendar.today()
            return (try await store.expiringPoints(asOfDay: day, withinDays: withinDays, calendar: calendar), day)
        }
        struct Summary: Encodable {
            var members: Int
            var points: Int64
            var withinDays: Int
        }
        struct Body: Encodable {
            var report = "expiring"
            var asOf: String
            var members: [ExpiringPoints]
            var summary: Summary
        }
        let asOfText = ChainCalendar.string(day: asOfDay)
        let total = rows.reduce(Int64(0)) { $0 + $1.points }
        return ReportTable(
            title: "points expiring within \(withinDays) days after \(asOfText)",
            header: ["card", "points", "first_expiry_day", "balance"],
            rows: rows.map { [$0.card, String($0.points), $0.firstExpiryDay, String($0.balance)] },
            json: Output.json(Body(asOf: asOfText, members: rows, summary: Summary(members: rows.count, points: total, withinDays: withinDays))),
            summaryLine: "\(rows.count) members have \(total) points expiring within \(withinDays) days after \(asOfText).")
    }
}
