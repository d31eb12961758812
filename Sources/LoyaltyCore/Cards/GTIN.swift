/// GS1 check digits for EAN-13, EAN-8 and UPC-A.
public enum GTIN {
    /// Whether the last digit is the GS1 mod-10 check digit of the others (weights 3,1 from the right).
    public static func hasValidCheckDigit<S: StringProtocol>(_ digits: S) -> Bool {
        let values = digits.compactMap(\.wholeNumberValue)
        guard values.count == digits.count, values.count >= 2 else { return false }
        var sum = 0
        for (index, value) in values.dropLast().reversed().enumerated() {
            sum += index % 2 == 0 ? value * 3 : value
        }
        return (10 - sum % 10) % 10 == values.last!
    }

    /// `digits` followed by their GS1 check digit, e.g. a 12-digit body becomes an EAN-13.
    public static func withCheckDigit(_ digits: String) -> String {
        precondition(!digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }, "digits only")
        var sum = 0
        for (index, value) in digits.compactMap(\.wholeNumberValue).reversed().enumerated() {
            sum += index % 2 == 0 ? value * 3 : value
        }
        return digits + String((10 - sum % 10) % 10)
    }
}
