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

    /// The characters that join digit groups the way card numbers are printed or typed:
    /// `4111 1111 1111 1111`, `4111-1111-…`, `4111.1111.…`, `4111/1111/…`.
    static let groupJoiners: Set<Character> = [" ", "-", ".", "/"]

    /// The digit a character stands for, in any script (`４`, `٤` as well as `4`); nil for others.
    static func digit(_ character: Character) -> Character? {
        if character.isASCII { return character.isNumber ? character : nil }
        guard character.unicodeScalars.count == 1, let scalar = character.unicodeScalars.first,
            scalar.properties.numericType == .decimal, let value = scalar.properties.numericValue,
            value >= 0, value <= 9
        else { return nil }
        return Character(String(Int(value)))
    }

    /// One group of digits as written, and the joiner that followed it (if any).
    struct DigitGroup {
        var digits = ""
        var original = ""
        var joiner: Character?
    }

    /// `text` with every number that looks like a payment card replaced: for error messages that
    /// would otherwise repeat what the user typed, and for everything the binaries print. A number is
    /// a run of digits (in any script), or digit groups joined by single spaces, dashes, dots or slashes
    /// as cards are written (`4111 1111 1111 1111`, `41-11-11-…`): a card is looked for in each group
    /// alone and in consecutive groups of at least two digits each, from a group's start to a group's
    /// end, so dates and the short groups of ids do not join into false card numbers.
    public static func redacted(_ text: String) -> String {
        var output = ""
        var run: [DigitGroup] = []
        var current = DigitGroup()
        func flush() {
            if !current.digits.isEmpty { run.append(current) }
            current = DigitGroup()
            guard !run.isEmpty else { return }
            var marked = [Bool](repeating: false, count: run.count)
            for first in run.indices {
                if containsPaymentCard(run[first].digits) { marked[first] = true }
                guard run[first].digits.count >= 2 else { continue }
                var joined = run[first].digits
                var last = first
                while last + 1 < run.count, run[last].joiner != nil, run[last + 1].digits.count >= 2,
                    joined.count + run[last + 1].digits.count <= 19
                {
                    last += 1
                    joined += run[last].digits
                    if joined.count >= 12, isPaymentCard(joined) {
                        for index in first...last { marked[index] = true }
                    }
                }
            }
            var index = 0
            while index < run.count {
                if marked[index] {
                    while index + 1 < run.count, marked[index + 1] { index += 1 }
                    output += "[bank card number removed]"
                } else {
                    output += run[index].original
                }
                if let joiner = run[index].joiner { output.append(joiner) }
                index += 1
            }
            run = []
        }
        for character in text {
            if let digit = digit(character) {
                current.digits.append(digit)
                current.original.append(character)
            } else if groupJoiners.contains(character) && !current.digits.isEmpty {
                current.joiner = character
                run.append(current)
                current = DigitGroup()
            } else {
                flush()
                output.append(character)
            }
        }
        flush()
        return output
    }

    /// Refuses free text from outside (a reason, a name, a key, an id) that holds a bank card number,
    /// naming the field and never repeating the text: one check for every such field.
    public static func refuseInFreeText(_ text: String?, field: String) throws(LoyaltyError) {
        guard let text, mentionsPaymentCard(text) else { return }
        throw .badInput("payment_card", "\(field) holds a bank card number; it is not stored (leave it out)")
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
