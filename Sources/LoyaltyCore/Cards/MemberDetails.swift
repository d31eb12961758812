/// A calendar date without time or zone, e.g. a member's birthday.
public struct CalendarDate: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Parses `YYYY-MM-DD`, checking that the day exists (29 February only in leap years).
    public init(parsing text: String) throws(LoyaltyError) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } })
        else {
            throw .badInput("bad_date", "date '\(text.prefix(20))' must be written YYYY-MM-DD, e.g. 1990-04-23")
        }
        guard Self.supportedYears.contains(year) else {
            throw .badInput(
                "bad_date",
                "date '\(text.prefix(20))' is outside the years \(Self.supportedYears.lowerBound) to \(Self.supportedYears.upperBound)")
        }
        guard (1...12).contains(month), (1...CalendarDate.daysIn(month: month, year: year)).contains(day) else {
            throw .badInput("bad_date", "date '\(text.prefix(20))' is not a real calendar day")
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// The years a date may have: every date a person, a till or a report means.
    public static let supportedYears = 1900...2200

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public var description: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}

extension CalendarDate {
    /// Refuses a birthday that has not come yet at `milliseconds` anywhere on earth (UTC+14 is the furthest
    /// ahead: found by attack, a day of slack let tomorrow's date through before it had begun anywhere).
    public func requireBirthday(atMilliseconds milliseconds: Int64) throws(LoyaltyError) {
        // Clamped to the year 9999: a clock beyond it is no reason to refuse a real birthday.
        let latestMilliseconds: Int64 = 253_402_300_799_000
        let aheadMilliseconds: Int64 = 14 * 3_600_000
        let furthest = ChainTime.text(
            milliseconds: min(milliseconds, latestMilliseconds - aheadMilliseconds) + aheadMilliseconds, timeZone: "UTC")
        if description > String(furthest.prefix(10)) {
            throw .badInput("bad_birthday", "birthday \(self) is in the future; give the member's date of birth, YYYY-MM-DD")
        }
    }
}

/// A member's name as typed at the till: 1 to 100 printable characters.
public enum MemberName {
    public static func validated(_ text: String) throws(LoyaltyError) -> String {
        let trimmed = text.trimmingSpaces
        guard !trimmed.isEmpty, trimmed.count <= 100, !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .badInput("bad_name", "a member name is 1 to 100 printable characters")
        }
        // Bytes that were not UTF-8 (a terminal or POS in another encoding) arrive as replacement marks.
        if trimmed.unicodeScalars.contains("\u{FFFD}") {
            throw .badInput(
                "bad_name", "the name is not UTF-8 text (check the terminal's or the POS's character encoding); type it again")
        }
        // Shown on every screen and report: nothing that reorders or hides it, and something to see.
        if VisibleText.hidesOrReorders(trimmed) || !VisibleText.showsSomething(trimmed) {
            throw .badInput(
                "bad_name", "a member name cannot hold invisible or text-direction characters (copied from another app?); type it again")
        }
        guard !PaymentCardDetector.mentionsPaymentCard(trimmed) else {
            throw .badInput("payment_card", "the name holds a bank card number; type the member's name only")
        }
        return trimmed
    }
}

extension String {
    var trimmingSpaces: String {
        var slice = Substring(self)
        while slice.first?.isWhitespace == true { slice.removeFirst() }
        while slice.last?.isWhitespace == true { slice.removeLast() }
        return String(slice)
    }
}
