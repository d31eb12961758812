/// Recognises bank (payment) card numbers so that one swiped or typed by mistake is refused
/// before it can reach storage, logs or output.
public enum PaymentCardDetector {
    /// Whether `digits` looks like a payment card: a Luhn-valid number whose prefix and length
    /// match a major card scheme (Visa, Mastercard, American Express, Discover, JCB, UnionPay,
    /// Diners, Maestro).
    public static func isPaymentCard<S: StringProtocol>(_ digits: S) -> Bool {
        let length = digits.count
        guard (12...19).contains(length), digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        guard Luhn.isValid(digits) else { return false }
        func prefix(_ count: Int) -> Int { Int(digits.prefix(count))! }
        switch digits.first! {
        case "4": return [13, 16, 19].contains(length)  // Visa
        case "5":
            if (51...55).contains(prefix(2)) { return length == 16 }  // Mastercard
            return (12...19).contains(length) && [50, 56, 57, 58].contains(prefix(2))  // Maestro
        case "2": return length == 16 && (2221...2720).contains(prefix(4))  // Mastercard 2-series
        case "3":
            if [34, 37].contains(prefix(2)) { return length == 15 }  // American Express
            if (3528...3589).contains(prefix(4)) { return (16...19).contains(length) }  // JCB
            return [300, 301, 302, 303, 304, 305, 309].contains(prefix(3)) || [36, 38, 39].contains(prefix(2))  // Diners
        case "6":
            if prefix(4) == 6011 || prefix(2) == 65 || (644...649).contains(prefix(3)) { return (16...19).contains(length) }  // Discover
            if prefix(2) == 62 { return (16...19).contains(length) }  // UnionPay
            return [6304, 6759, 6761, 6762, 6763].contains(prefix(4))  // Maestro
        default: return false
        }
    }
}
