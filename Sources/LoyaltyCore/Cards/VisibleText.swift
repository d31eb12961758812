/// Text a person reads on a till, a kiosk, a report or an audit trail: characters that hide or reorder it
/// would let one name or operator look like another.
public enum VisibleText {
    /// U+200C ZERO WIDTH NON-JOINER and U+200D ZERO WIDTH JOINER: part of how Persian, Hindi and others
    /// are written, so kept (but they alone are no text).
    static let joiners: Set<Unicode.Scalar> = ["\u{200C}", "\u{200D}"]

    /// Letters in the Unicode sense that show nothing (fillers and blanks).
    static let blanks: Set<Unicode.Scalar> = [
        "\u{034F}", "\u{115F}", "\u{1160}", "\u{17B4}", "\u{17B5}", "\u{180E}", "\u{2800}", "\u{3164}", "\u{FFA0}",
    ]

    /// Whether `text` holds a character that reorders or hides what follows it (text-direction
    /// controls, zero-width spaces, invisible fillers, line and paragraph separators).
    public static func hidesOrReorders(_ text: String) -> Bool {
        text.unicodeScalars.contains { scalar in
            switch scalar.properties.generalCategory {
            case .format: !joiners.contains(scalar)
            case .lineSeparator, .paragraphSeparator: true
            default: blanks.contains(scalar)
            }
        }
    }

    /// Whether `text` shows at least one letter, digit, mark of punctuation or symbol.
    public static func showsSomething(_ text: String) -> Bool {
        text.unicodeScalars.contains { scalar in
            guard !blanks.contains(scalar), !joiners.contains(scalar) else { return false }
            return switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .decimalNumber,
                .letterNumber, .otherNumber, .connectorPunctuation, .dashPunctuation, .openPunctuation,
                .closePunctuation,
                .initialPunctuation, .finalPunctuation, .otherPunctuation, .mathSymbol, .currencySymbol,
                .modifierSymbol,
                .otherSymbol:
                true
            default: false
            }
        }
    }
}
