/// Recognises bank (payment) card numbers so that one swiped or typed by mistake is refused
/// before it can reach storage, logs or output.
public enum PaymentCardDetector {
    /// One issuer range of a card scheme: numbers whose first `prefixDigits` digits lie in `prefixes`
    /// and whose length is in `lengths`.
    struct IssuerRange {
        var prefixes: ClosedRange<Int>
        var prefixDigits: Int
        var lengths: ClosedRange<Int>
    }

    /// The major schemes: Visa, Mastercard, American Express, Discover, JCB, UnionPay, Diners, Maestro.
    static let issuerRanges: [IssuerRange] = [
        IssuerRange(prefixes: 4...4, prefixDigits: 1, lengths: 13...19),  // Visa (13, 16, 19; see below)
        IssuerRange(prefixes: 51...55, prefixDigits: 2, lengths: 16...16),  // Mastercard
        IssuerRange(prefixes: 2221...2720, prefixDigits: 4, lengths: 16...16),  // Mastercard 2-series
        IssuerRange(prefixes: 50...50, prefixDigits: 2, lengths: 12...19),  // Maestro
        IssuerRange(prefixes: 56...58, prefixDigits: 2, lengths: 12...19),  // Maestro
        IssuerRange(prefixes: 34...34, prefixDigits: 2, lengths: 15...15),  // American Express
        IssuerRange(prefixes: 37...37, prefixDigits: 2, lengths: 15...15),  // American Express
        IssuerRange(prefixes: 3528...3589, prefixDigits: 4, lengths: 16...19),  // JCB
        IssuerRange(prefixes: 300...305, prefixDigits: 3, lengths: 12...19),  // Diners
        IssuerRange(prefixes: 309...309, prefixDigits: 3, lengths: 12...19),  // Diners
        IssuerRange(prefixes: 36...36, prefixDigits: 2, lengths: 12...19),  // Diners
        IssuerRange(prefixes: 38...39, prefixDigits: 2, lengths: 12...19),  // Diners
        IssuerRange(prefixes: 6011...6011, prefixDigits: 4, lengths: 16...19),  // Discover
        IssuerRange(prefixes: 65...65, prefixDigits: 2, lengths: 16...19),  // Discover
        IssuerRange(prefixes: 644...649, prefixDigits: 3, lengths: 16...19),  // Discover
        IssuerRange(prefixes: 62...62, prefixDigits: 2, lengths: 16...19),  // UnionPay
        IssuerRange(prefixes: 6304...6304, prefixDigits: 4, lengths: 12...19),  // Maestro
        IssuerRange(prefixes: 6759...6759, prefixDigits: 4, lengths: 12...19),  // Maestro
        IssuerRange(prefixes: 6761...6763, prefixDigits: 4, lengths: 12...19),  // Maestro
    ]

    /// Whether `digits` looks like a payment card: a Luhn-valid number whose prefix and length
    /// match a major card scheme.
    public static func isPaymentCard<S: StringProtocol>(_ digits: S) -> Bool {
        let length = digits.count
        guard (12...19).contains(length), digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        guard Luhn.isValid(digits) else { return false }
        if digits.first == "4" { return [13, 16, 19].contains(length) }
        return issuerRanges.contains { range in
            range.lengths.contains(length) && range.prefixes.contains(Int(digits.prefix(range.prefixDigits))!)
        }
    }

    /// Whether some number of `lengths` digits starting with a number in `lowPrefix...highPrefix`
    /// (equal-length digit strings) could be a payment card: member-card ranges must not overlap one.
    public static func overlapsPaymentRanges(lowPrefix: String, highPrefix: String, lengths: ClosedRange<Int>) -> Bool {
        guard !lowPrefix.isEmpty, lowPrefix.count == highPrefix.count,
            (lowPrefix + highPrefix).allSatisfy({ $0.isASCII && $0.isNumber })
        else { return false }
        let possibleLengths = lengths.clamped(to: 12...19)
        guard possibleLengths.count > 0, lengths.overlaps(12...19) else { return false }
        return issuerRanges.contains { range in
            guard range.lengths.overlaps(possibleLengths) else { return false }
            let digits = range.prefixDigits
            // Compare on the issuer prefix's digits: pad or cut the member range's bounds to that width.
            func widened(_ text: String, filler: Character) -> Int {
                if text.count >= digits { return Int(text.prefix(digits))! }
                return Int(text + String(repeating: filler, count: digits - text.count))!
            }
            let low = widened(lowPrefix, filler: "0")
            let high = widened(highPrefix, filler: "9")
            return low <= range.prefixes.upperBound && range.prefixes.lowerBound <= high
        }
    }

    /// `text` with every number that looks like a payment card replaced: for error messages that
    /// would otherwise repeat what the user typed. A number is a run of digits, or digit groups of at
    /// least three joined by single spaces or dashes as cards are printed (`4111 1111 1111 1111`), so
    /// dates and the short groups of ids do not join into false card numbers.
    public static func redacted(_ text: String) -> String {
        var output = ""
        // The current run: digit groups, each with the separator that followed it (if any).
        var run: [(digits: String, separator: Character?)] = []
        var digits = ""
        func emit(_ piece: ArraySlice<(digits: String, separator: Character?)>) {
            guard let last = piece.last else { return }
            if containsPaymentCard(piece.map(\.digits).joined()) {
                output += "[bank card number removed]"
                if let separator = last.separator { output.append(separator) }
            } else {
                for group in piece {
                    output += group.digits
                    if let separator = group.separator { output.append(separator) }
                }
            }
        }
        func flush() {
            if !digits.isEmpty { run.append((digits, nil)) }
            digits = ""
            // A short group in a multi-group run stands alone: it is not part of a printed card number.
            var start = 0
            for index in run.indices where run.count > 1 && run[index].digits.count < 3 {
                emit(run[start..<index])
                emit(run[index...index])
                start = index + 1
            }
            emit(run[start...])
            run = []
        }
        for character in text {
            if character.isASCII && character.isNumber {
                digits.append(character)
            } else if (character == " " || character == "-") && !digits.isEmpty {
                run.append((digits, character))
                digits = ""
            } else {
                flush()
                output.append(character)
            }
        }
        flush()
        return output
    }

    /// Whether free text (a receipt reference, a name, a store id) holds a payment card number,
    /// possibly split by spaces or dashes: such text is refused before it is stored.
    public static func mentionsPaymentCard(_ text: String) -> Bool {
        redacted(text) != text
    }

    /// Whether any 12–19 digit window of `digits` is a payment card (a PAN inside a longer number).
    static func containsPaymentCard(_ digits: String) -> Bool {
        guard digits.count >= 12 else { return false }
        let characters = Array(digits)
        for start in 0..<characters.count {
            for length in 12...19 where start + length <= characters.count {
                if isPaymentCard(String(characters[start..<(start + length)])) { return true }
            }
        }
        return false
    }
}
