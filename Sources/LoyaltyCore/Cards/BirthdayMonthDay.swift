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
}
