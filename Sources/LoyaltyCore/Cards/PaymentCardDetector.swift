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

    /// The characters that join digit groups the way card numbers are printed or typed (`4111 1111 …`,
    /// `4111-1111-…`, `4111.1111.…`, `4111/1111/…`, `4111_1111_…`), Unicode spaces and dashes among them.
    static let asciiGroupJoiners: Set<Character> = [
        " ", "-", ".", "/", "_", ",", "+", ":", "|", "~", "*",
        // Found by attack: the Swiss `4111'1111'…` and other marks a number may be written with.
        "'", "#", "=", ";", "\"", "(", ")", "[", "]", "\\", "`", "^", "!", "?", "@", "$", "&", "<", ">", "{", "}",
    ]

    static func isGroupJoiner(_ character: Character) -> Bool {
        if asciiGroupJoiners.contains(character) { return true }
        guard character.unicodeScalars.count == 1, let scalar = character.unicodeScalars.first else { return false }
        switch scalar.properties.generalCategory {
        // NBSP, U+3000, en dash, zero-width space; ’ · • and the other marks; − (U+2212) and other symbols.
        case .spaceSeparator, .dashPunctuation, .format, .otherPunctuation, .initialPunctuation, .finalPunctuation,
            .openPunctuation, .closePunctuation, .mathSymbol, .otherSymbol, .connectorPunctuation:
            return true
        default: return false
        }
    }

    /// The digit a character stands for, in any script (`４`, `٤`, `⁴`, `④`, `4̲` as well as `4`); nil for others.
    static func digit(_ character: Character) -> Character? {
        if character.isASCII { return character.isNumber ? character : nil }
        let scalars = Array(character.unicodeScalars)
        guard let scalar = scalars.first,
            scalars.dropFirst().allSatisfy({ $0.properties.generalCategory == .nonspacingMark }),
            scalar.properties.numericType == .decimal || scalar.properties.numericType == .digit,
            let value = scalar.properties.numericValue, value >= 0, value <= 9, value == value.rounded()
        else { return nil }
        return Character(String(Int(value)))
    }

    /// One group of digits as written, and the joiners that followed it (if any).
    struct DigitGroup {
        var digits = ""
        var original = ""
        var joiners = ""
        /// Groups of at most this many digits join their neighbours (card numbers are printed in
        /// groups of 4, 4-6-5, 2, or halves of 8): a long number next to a short one (`5000000000.41`)
        /// does not.
        static let joinableDigits = 1...8
        /// Joiners between two groups, at most: `4111 - 1111 - …` is one number.
        static let maximumJoiners = 3
        /// A card split in two uneven parts (`411111 1111111111`, 6 + 10, as the issuer prefix and the rest):
        /// a longer group joins its neighbour across a space or dash, never across a decimal point or comma.
        static let longestSplitGroup = 16

        static func joins(_ group: DigitGroup, _ next: DigitGroup) -> Bool {
            if joinableDigits.contains(group.digits.count) && joinableDigits.contains(next.digits.count) { return true }
            // Only spaces and dashes: `130:2900000500123` (an id and a member card) is two numbers.
            let spaced = group.joiners.allSatisfy { character in
                character == " " || character == "-"
                    || character.unicodeScalars.allSatisfy {
                        [.spaceSeparator, .dashPunctuation].contains($0.properties.generalCategory)
                    }
            }
            return spaced && max(group.digits.count, next.digits.count) <= longestSplitGroup
                && min(group.digits.count, next.digits.count) >= 3
        }
    }

    /// `text` with every number that looks like a payment card replaced: for error messages that
    /// would otherwise repeat what the user typed, and for everything the binaries print. A number is
    /// a run of digits (in any script), or short digit groups joined by one to three spaces, dashes,
    /// dots, slashes and the like, as card numbers are written (`4111 1111 1111 1111`, `41-11-11-…`).
    /// A number is a card when it is one, or when it holds one of 15 to 19 digits (a card with a digit
    /// glued on); a 12–14-digit window inside a longer number is left alone, so a 13-digit member card
    /// is never taken for a short Maestro number inside it. A number that is a JSON value (`"key":123`)
    /// is the binaries' own figure, never a card typed in: it is left alone.
    public static func redacted(_ text: String) -> String { redacted(text, leavingJSONValues: true) }

    /// - Parameter leavingJSONValues: leave numbers that follow `":` alone (the binaries' own output);
    ///   false for text from outside, where `"x":4111…` is as much a card as anything else.
    static func redacted(_ text: String, leavingJSONValues: Bool) -> String {
        var output = ""
        var run: [DigitGroup] = []
        var runIsJSONValue = false
        func flush() {
            guard !run.isEmpty else { return }
            var marked = [Bool](repeating: false, count: run.count)
            if !runIsJSONValue {
                for first in run.indices {
                    if containsPaymentCard(run[first].digits) { marked[first] = true }
                    guard run[first].digits.count <= DigitGroup.longestSplitGroup else { continue }
                    var joined = run[first].digits
                    var last = first
                    while last + 1 < run.count, !run[last].joiners.isEmpty,
                        DigitGroup.joins(run[last], run[last + 1]), joined.count <= 25
                    {
                        last += 1
                        joined += run[last].digits
                        if joined.count >= 12, containsPaymentCard(joined) {
                            for index in first...last { marked[index] = true }
                        }
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
                output += run[index].joiners
                index += 1
            }
            run = []
        }
        // Joiners after the run's last group: inside the number only if a digit follows.
        var pending = ""
        for character in text {
            if let digit = digit(character) {
                if run.isEmpty {
                    runIsJSONValue = leavingJSONValues && output.hasSuffix("\":")
                    run.append(DigitGroup())
                } else if !pending.isEmpty {
                    run[run.count - 1].joiners = pending
                    pending = ""
                    run.append(DigitGroup())
                }
                run[run.count - 1].digits.append(digit)
                run[run.count - 1].original.append(character)
            } else if !run.isEmpty && pending.count < DigitGroup.maximumJoiners && isGroupJoiner(character) {
                pending.append(character)
            } else {
                flush()
                output += pending
                pending = ""
                output.append(character)
            }
        }
        flush()
        return output + pending
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
        // Fast paths for the award's hot path: an ASCII text with fewer than 12 digits holds no card,
        // and an all-digit one is one number.
        var digits = 0
        var ascii = true
        for byte in text.utf8 {
            if byte >= 0x30 && byte <= 0x39 { digits += 1 } else if byte >= 0x80 { ascii = false }
        }
        if ascii && digits < 12 { return false }
        if ascii && digits == text.utf8.count { return containsPaymentCard(text) }
        return redacted(text, leavingJSONValues: false) != text
    }

    /// Whether `digits` is a payment card, or holds one of 15 to 19 digits (a card number with digits
    /// glued on). Shorter windows inside a longer number are left alone: by chance alone about one
    /// 13-digit member card in a hundred holds a Luhn-valid 12-digit Maestro-like window.
    static func containsPaymentCard(_ digits: String) -> Bool {
        guard digits.count >= 12 else { return false }
        if isPaymentCard(digits) { return true }
        let characters = Array(digits)
        for length in 15...19 where length < characters.count {
            for start in 0...(characters.count - length) where isPaymentCard(String(characters[start..<(start + length)])) {
                return true
            }
        }
        return false
    }
}
