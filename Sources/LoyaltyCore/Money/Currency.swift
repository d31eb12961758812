/// An ISO 4217 currency and how many minor units (cents, fen) make one major unit.
public struct Currency: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Three upper-case letters, e.g. `EUR`.
    public let code: String
    /// Digits after the decimal point: 2 for EUR, 0 for JPY, 3 for KWD.
    public let minorUnitDigits: Int

    /// Minor units in one major unit, e.g. 100 for EUR.
    public var minorUnitsPerMajor: Int64 {
        var value: Int64 = 1
        for _ in 0..<minorUnitDigits { value *= 10 }
        return value
    }

    public init(code: String, minorUnitDigits: Int) throws(LoyaltyError) {
        guard code.count == 3, code.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            throw .badInput("bad_currency", "currency code '\(code)' must be three upper-case letters, e.g. EUR")
        }
        guard (0...4).contains(minorUnitDigits) else {
            throw .badInput("bad_currency", "currency \(code) must have 0 to 4 minor-unit digits")
        }
        self.code = code
        self.minorUnitDigits = minorUnitDigits
    }

    /// A known currency by code, with its ISO 4217 minor-unit digits (2 when not listed).
    public static func named(_ code: String) throws(LoyaltyError) -> Currency {
        let upper = code.uppercased()
        let digits: Int
        switch upper {
        case "JPY", "KRW", "ISK", "CLP", "VND", "XAF", "XOF", "HUF": digits = upper == "HUF" ? 2 : 0
        case "KWD", "BHD", "OMR", "JOD", "TND", "LYD", "IQD": digits = 3
        default: digits = 2
        }
        return try Currency(code: upper, minorUnitDigits: digits)
    }

    public static let euro = try! Currency(code: "EUR", minorUnitDigits: 2)

    public var description: String { code }
}
