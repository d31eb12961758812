/// The Luhn (mod 10) check used by payment cards and many member-card numbering schemes.
public enum Luhn {
    /// Whether an all-digit string passes the Luhn check. Non-digits or an empty string fail.
    public static func isValid<S: StringProtocol>(_ digits: S) -> Bool {
        var sum = 0
        var double = false
        var count = 0
        for character in digits.reversed() {
            guard let digit = character.wholeNumberValue, character.isASCII else { return false }
            var value = digit
            if double {
                value *= 2
                if value > 9 { value -= 9 }
            }
            sum += value
            double.toggle()
            count += 1
        }
        return count > 0 && sum % 10 == 0
    }
}
