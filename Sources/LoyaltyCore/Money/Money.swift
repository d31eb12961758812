/// An amount of money in integer minor units (cents, fen) of one currency. Never floating point.
public struct Money: Hashable, Sendable, Codable, CustomStringConvertible {
    public let minorUnits: Int64
    public let currency: Currency

    /// The largest amount a single sale may carry: keeps every points computation far from overflow.
    public static let maximumMinorUnits: Int64 = 1_000_000_000_000

    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// Parses a non-negative decimal string such as `12.50`, `12.5` or `12` in `currency`.
    ///
    /// Refuses signs, exponents, thousands separators, commas, spaces and more fraction digits than
    /// the currency has, each with a message saying what was expected.
    public init(parsing text: String, currency: Currency) throws(LoyaltyError) {
        let example = currency.minorUnitDigits == 0 ? "12" : "12." + String(repeating: "5", count: currency.minorUnitDigits)
        func bad(_ why: String) -> LoyaltyError {
            .badInput("bad_amount", "amount '\(PaymentCardDetector.redacted(String(text.prefix(40))))' \(why); write it like \(example)")
        }
        guard !text.isEmpty else { throw bad("is empty") }
        if text.hasPrefix("-") { throw .badInput("negative_amount", "amount '\(PaymentCardDetector.redacted(String(text.prefix(40))))' is negative; amounts are never negative (use refund for a return)") }
        let parts = text.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw bad("has more than one decimal point") }
        let whole = parts[0]
        let fraction = parts.count == 2 ? parts[1] : ""
        guard !whole.isEmpty else { throw bad("has no digits before the decimal point") }
        guard parts.count == 1 || !fraction.isEmpty else { throw bad("ends with a decimal point") }
        let isDigit: (Character) -> Bool = { $0.isASCII && $0.isNumber }
        guard whole.allSatisfy(isDigit), fraction.allSatisfy(isDigit) else {
            throw bad("is not a plain decimal number")
        }
        guard fraction.count <= currency.minorUnitDigits else {
            throw bad("has more than \(currency.minorUnitDigits) digits after the decimal point for \(currency.code)")
        }
        guard whole.count <= 15 else { throw bad("is too large") }
        var value: Int64 = 0
        for digit in whole { value = value * 10 + Int64(digit.wholeNumberValue!) }
        var fractionValue: Int64 = 0
        for digit in fraction { fractionValue = fractionValue * 10 + Int64(digit.wholeNumberValue!) }
        for _ in fraction.count..<currency.minorUnitDigits { fractionValue *= 10 }
        let (scaled, overflow) = value.multipliedReportingOverflow(by: currency.minorUnitsPerMajor)
        guard !overflow, scaled <= Money.maximumMinorUnits - fractionValue else { throw bad("is too large") }
        self.init(minorUnits: scaled + fractionValue, currency: currency)
    }

    /// The amount as a plain decimal string in major units, e.g. `12.50`, `-3.05`.
    public var decimalString: String {
        let perMajor = currency.minorUnitsPerMajor
        let magnitude = minorUnits.magnitude
        let whole = magnitude / UInt64(perMajor)
        let sign = minorUnits < 0 ? "-" : ""
        guard currency.minorUnitDigits > 0 else { return "\(sign)\(whole)" }
        let fraction = String(magnitude % UInt64(perMajor))
        let padded = String(repeating: "0", count: currency.minorUnitDigits - fraction.count) + fraction
        return "\(sign)\(whole).\(padded)"
    }

    public var description: String { "\(decimalString) \(currency.code)" }
}
