public import Foundation
public import LoyaltyCore

/// Whole calendar days in the chain's time zone, numbered from 1970-01-01 (day 0). Reports count
/// days here, so "days since the last visit" means the same in every store of the chain.
public struct ChainCalendar: Sendable {
    public let timeZone: TimeZone

    public init(identifier: String) throws(LoyaltyError) {
        guard let zone = TimeZone(identifier: identifier) else {
            throw .badInput("bad_time_zone", "'\(identifier)' is not an IANA time zone such as Europe/Berlin or UTC")
        }
        timeZone = zone
    }

    public static func isKnown(_ identifier: String) -> Bool { TimeZone(identifier: identifier) != nil }

    /// The chain's day of an instant.
    public func day(milliseconds: Int64) -> Int {
        let seconds = Self.floorDivide(milliseconds, 1000)
        let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds))))
        return Int(Self.floorDivide(seconds + offset, 86_400))
    }

    /// The instant the chain's day `day` starts (local midnight), in milliseconds.
    public func startMilliseconds(ofDay day: Int) -> Int64 {
        let local = Int64(day) * 86_400
        var utc = local - Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local))))
        // Once more with the offset in force at that instant (a day that starts near a DST change).
        utc = local - Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(utc))))
        return utc * 1000
    }

    /// Today in the chain's time zone.
    public func today(_ now: Date = Date()) -> Int { day(milliseconds: Int64((now.timeIntervalSince1970 * 1000).rounded(.down))) }

    /// `YYYY-MM-DD` → day number; nil when it is not a real date.
    public static func day(_ text: String) -> Int? {
        // The one date parser: years 1900 to 2200, real days only.
        guard let date = try? CalendarDate(parsing: text) else { return nil }
        return daysFromCivil(year: date.year, month: date.month, day: date.day)
    }

    /// Day number → `YYYY-MM-DD`.
    public static func string(day: Int) -> String {
        let (year, month, dayOfMonth) = civil(fromDays: day)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
        return "\(year)-\(two(month))-\(two(dayOfMonth))"
    }

    /// Whether a birthday (`YYYY-MM-DD` or `MM-DD`) is celebrated on one of `count` days from the day number
    /// `first` (29 February on the 28th outside leap years).
    public static func birthday(_ birthday: String, fallsWithin count: Int, daysFrom first: Int) -> Bool {
        guard let monthDay = BirthdayMonthDay(birthday), count > 0 else { return false }
        // A year holds every birthday: a longer window asks nothing more.
        return (0..<min(count, 366)).contains { offset in
            let (year, month, dayOfMonth) = civil(fromDays: first + offset)
            return monthDay.celebrated(inYear: year) == BirthdayMonthDay(month: month, day: dayOfMonth)
        }
    }

    /// Month and day of a day number.
    public static func monthDay(day: Int) -> (month: Int, day: Int) {
        let (_, month, dayOfMonth) = civil(fromDays: day)
        return (month, dayOfMonth)
    }

    // Proleptic Gregorian calendar ↔ days since 1970-01-01 (H. Hinnant's algorithms).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int { CivilDay.days(year: year, month: month, day: day) }

    static func civil(fromDays days: Int) -> (Int, Int, Int) {
        let date = CivilDay.date(fromDays: days)
        return (date.year, date.month, date.day)
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }
}

/// Converts many instants to days, remembering each hour's offset: offsets change on hour boundaries
/// in every zone of the time-zone database that matters to a retail chain, and a report converts
/// millions of instants.
struct DayConverter {
    let calendar: ChainCalendar
    private let isUTC: Bool
    private var offsetByHour: [Int64: Int64] = [:]

    init(_ calendar: ChainCalendar) {
        self.calendar = calendar
        isUTC = calendar.timeZone.secondsFromGMT() == 0 && calendar.timeZone.nextDaylightSavingTimeTransition == nil
    }

    mutating func day(milliseconds: Int64) -> Int {
        let seconds = ChainCalendar.floorDivide(milliseconds, 1000)
        if isUTC { return Int(ChainCalendar.floorDivide(seconds, 86_400)) }
        let hour = ChainCalendar.floorDivide(seconds, 3600)
        let offset: Int64
        if let known = offsetByHour[hour] {
            offset = known
        } else {
            offset = Int64(calendar.timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds))))
            if offsetByHour.count < 1_000_000 { offsetByHour[hour] = offset }
        }
        return Int(ChainCalendar.floorDivide(seconds + offset, 86_400))
    }
}

extension HeadOfficeStore {
    /// The chain's time zone: the program's in force (`earning.time_zone`, the one tills count days in),
    /// else the `time_zone` setting for a chain whose program has no earning rules. Expiry, reviews,
    /// segments and imports count days in it, like every till.
    public func chainTimeZone(now: Date = Date()) async throws -> String {
        if let rules = PublishedProgram.inForce(try await programs(), atMilliseconds: now.milliseconds)?.program.earningRules {
            return rules.timeZone
        }
        return try await analyticsSettings().timeZone
    }
}
