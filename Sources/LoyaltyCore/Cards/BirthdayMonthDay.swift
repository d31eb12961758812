/// The month and day of a birthday stored as `YYYY-MM-DD` or `MM-DD`: what birthday rules and lists read.
public struct BirthdayMonthDay: Hashable, Sendable {
    public var month: Int
    public var day: Int

    public init(month: Int, day: Int) {
        self.month = month
        self.day = day
    }

    /// nil when the text is not `YYYY-MM-DD` or `MM-DD`.
    public init?(_ birthday: String) {
        let parts = birthday.split(separator: "-")
        guard parts.count >= 2, let month = Int(parts[parts.count - 2]), let day = Int(parts[parts.count - 1]) else { return nil }
        self.init(month: month, day: day)
    }

    /// The day the birthday is celebrated in `year`: 29 February is kept on 28 February outside leap years
    /// (found by attack: members born on 29 February had no birthday three years in four).
    public func celebrated(inYear year: Int) -> BirthdayMonthDay {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        return month == 2 && day == 29 && !leap ? BirthdayMonthDay(month: 2, day: 28) : self
    }
}
