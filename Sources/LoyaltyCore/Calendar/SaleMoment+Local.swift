public import Foundation

extension SaleMoment {
    /// The moment of local time `localSeconds` (seconds since 1970 in the zone's wall clock): integer date
    /// arithmetic, the same for the till and for head office.
    public init(localSeconds local: Int64) {
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let date = CivilDay.date(fromDays: Int(days))
        self.init(
            day: CivilDay.string(year: date.year, month: date.month, day: date.day), weekday: CivilDay.isoWeekday(days: Int(days)),
            hour: Int((local - days * 86_400) / 3_600), month: date.month)
    }

    /// The moment of `milliseconds` (since 1970, UTC) in `timeZone` (UTC when unknown).
    public init(milliseconds: Int64, timeZone: String) {
        let zone = TimeZone(identifier: timeZone) ?? TimeZone(identifier: "UTC")!
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds)))
        self.init(localSeconds: seconds + Int64(offset))
    }
}
