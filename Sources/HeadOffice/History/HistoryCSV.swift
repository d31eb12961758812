public import Foundation
public import LoyaltyCore

/// Reads a history file: a header `card,store,receipt,time,amount` (in any column order) and one
/// sale or refund per line. `time` is ISO 8601 with a zone (`2025-03-01T10:15:00Z`,
/// `…+01:00`), or without one in the chain's time zone; `amount` a decimal string in the chain's
/// currency, negative for a refund of that receipt.
public enum HistoryCSV {
    public static let columns = ["card", "store", "receipt", "time", "amount"]

    /// The earliest time a history line may have (1990-01-01T00:00:00Z): older lines are typing errors.
    public static let earliestMilliseconds: Int64 = 631_152_000_000

    /// Every line checked; all problems reported together with line numbers, or all rows. A time before
    /// 1990 or more than a day after `now` is refused: a sale in year 9999 would count in every 12-month
    /// figure for ever, one in year 1 would make a member thousands of years old.
    public static func parse(
        _ text: String, currency: Currency, calendar: ChainCalendar, memberRules: CardScanRules, now: Date = Date()
    ) throws(HistoryImportError) -> [HistoryRow] {
        // "\r\n" is one Character in Swift: split on any newline, so CRLF files read like LF ones.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        guard let headerLine = lines.first else {
            throw .line(1, "the file is empty; it needs the header \(columns.joined(separator: ","))")
        }
        let header = fields(headerLine).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var position: [String: Int] = [:]
        for (index, name) in header.enumerated() { position[name] = index }
        let missing = columns.filter { position[$0] == nil }
        guard missing.isEmpty else {
            throw .line(1, "the header lacks \(missing.joined(separator: ", ")); it must name \(columns.joined(separator: ","))")
        }
        var rows: [HistoryRow] = []
        var problems: [HistoryImportError.Problem] = []
        for (offset, line) in lines.enumerated().dropFirst() {
            let number = offset + 1
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let values = fields(line)
            guard values.count == header.count else {
                problems.append(.init(line: number, message: "expected \(header.count) fields, found \(values.count)"))
                continue
            }
            func value(_ column: String) -> String { values[position[column]!].trimmingCharacters(in: .whitespaces) }
            do {
                rows.append(
                    try row(
                        line: number, card: value("card"), store: value("store"), receipt: value("receipt"),
                        time: value("time"), amount: value("amount"), currency: currency, calendar: calendar,
                        memberRules: memberRules, now: now))
            } catch {
                problems.append(.init(line: number, message: error.message))
            }
        }
        guard problems.isEmpty else { throw HistoryImportError(problems) }
        return rows
    }

    static func row(
        line: Int, card: String, store: String, receipt: String, time: String, amount: String, currency: Currency,
        calendar: ChainCalendar, memberRules: CardScanRules, now: Date = Date()
    ) throws(LoyaltyError) -> HistoryRow {
        // A bank card is refused here (and never echoed); with member ranges set, only those cards.
        let cardNumber = memberRules.memberRanges.isEmpty ? try CardNumber(card) : try memberRules.memberCard(typed: card)
        guard !store.isEmpty, store.count <= 64, store.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw .badInput("bad_store", "store '\(store)' must be 1–64 letters, digits, '-', '_' or '.'")
        }
        guard !PaymentCardDetector.mentionsPaymentCard(store) else {
            throw .badInput("bad_store", "the store id looks like a payment card number")
        }
        let receiptValue = try ReceiptReference(receipt).value
        // A year the calendar does not take (9999, 0001) is told apart from a malformed time.
        if time.count >= 5, time.dropFirst(4).first == "-", let year = Int(time.prefix(4)),
            !CalendarDate.supportedYears.contains(year)
        {
            throw .badInput(
                "bad_time", "time '\(time)' is \(year < 1990 ? "before 1990" : "in the future"); history is of sales that happened")
        }
        guard let at = instant(time, calendar: calendar) else {
            throw .badInput(
                "bad_time", "time '\(time)' must be ISO 8601, e.g. 2025-03-01T10:15:00Z or 2025-03-01T11:15:00+01:00")
        }
        let latest = Int64((now.timeIntervalSince1970 * 1000).rounded(.down)) + 86_400_000
        guard (earliestMilliseconds...latest).contains(at) else {
            throw .badInput(
                "bad_time", "time '\(time)' is \(at < earliestMilliseconds ? "before 1990" : "in the future"); history is of sales that happened")
        }
        let minor = try Money(parsing: amount.hasPrefix("-") ? String(amount.dropFirst()) : amount, currency: currency)
        guard minor.minorUnits > 0 else {
            throw .badInput("zero_amount", "amount '\(amount)' must not be zero (negative for a refund)")
        }
        return HistoryRow(
            line: line, card: cardNumber.value, storeId: store, receipt: receiptValue, atMilliseconds: at,
            amountMinor: amount.hasPrefix("-") ? -minor.minorUnits : minor.minorUnits)
    }

    /// ISO 8601 date and time, with `Z`/offset or in the chain's zone; fractional seconds allowed.
    static func instant(_ text: String, calendar: ChainCalendar) -> Int64? {
        // The parser rolls impossible dates over (2026-02-30 → 2026-03-02, hour 25 → the next day): found by
        // review. The date and the time of day as written must be real.
        guard text.count >= 19, let writtenDay = ChainCalendar.day(String(text.prefix(10))),
            ChainCalendar.string(day: writtenDay) == String(text.prefix(10)),
            let hour = Int(text.dropFirst(11).prefix(2)), let minute = Int(text.dropFirst(14).prefix(2)),
            let second = Int(text.dropFirst(17).prefix(2)), hour < 24, minute < 60, second < 60
        else { return nil }
        let withZone = Date.ISO8601FormatStyle(includingFractionalSeconds: false)
        let withZoneFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        if let date = (try? withZone.parse(text)) ?? (try? withZoneFraction.parse(text)) {
            return Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        }
        // No zone: local time in the chain's zone.
        let local = text.count == 19 ? text + "Z" : nil
        guard let local, let utc = try? withZone.parse(local) else { return nil }
        let seconds = Int64(utc.timeIntervalSince1970)
        let day = Int(ChainCalendar.floorDivide(seconds, 86_400))
        let secondsOfDay = seconds - Int64(day) * 86_400
        return calendar.startMilliseconds(ofDay: day) + secondsOfDay * 1000
    }

    /// RFC 4180 fields of one line: commas separate, double quotes quote, `""` is a quote.
    static func fields(_ line: Substring) -> [String] {
        var result: [String] = []
        var current = ""
        var quoted = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            if quoted {
                if character == "\"" {
                    var lookahead = iterator
                    if lookahead.next() == "\"" {
                        current.append("\"")
                        iterator = lookahead
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                result.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        result.append(current)
        return result
    }
}
