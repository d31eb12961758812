public import Foundation

/// How every instant a person or a POS reads is written, by both binaries: ISO 8601 to the second in the
/// chain's time zone with its offset (`2026-12-05T09:15:02+01:00`; `Z` when the chain counts in UTC).
/// Entries keep UTC milliseconds; only what is shown is written this way.
public enum ChainTime {
    /// `milliseconds` since 1970 in the zone named `timeZone` (an IANA name; UTC when unknown).
    public static func text(milliseconds: Int64, timeZone: String) -> String {
        text(Date(timeIntervalSince1970: Double(milliseconds.dividedRoundingDown(by: 1000))), timeZone: timeZone)
    }

    /// `date` in the zone named `timeZone`, to the second (rounded down).
    public static func text(_ date: Date, timeZone: String) -> String {
        let zone = TimeZone(identifier: timeZone) ?? TimeZone(secondsFromGMT: 0)!
        let whole = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
        return whole.formatted(Date.ISO8601FormatStyle(timeZoneSeparator: .colon, timeZone: zone))
    }
}

extension Int64 {
    /// Floor division: instants before 1970 round towards the past, like every other instant.
    fileprivate func dividedRoundingDown(by divisor: Int64) -> Int64 {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? quotient - 1 : quotient
    }
}
