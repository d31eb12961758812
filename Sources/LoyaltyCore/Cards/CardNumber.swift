/// A member card's identifier, normalised: upper-case letters and digits only.
///
/// Never holds a payment card number: ``init(_:)`` refuses one, and its error message does not
/// repeat the number. Use ``masked`` wherever a card appears in logs.
public struct CardNumber: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public let value: String

    public static let maximumLength = 40
    public static let minimumLength = 4

    /// Normalises `text` (trims spaces, upper-cases, removes `-` and inner spaces) and validates it.
    /// A number the payment-card detector flags is refused whatever the store's member ranges say.
    public init(_ text: String) throws(LoyaltyError) {
        var normalised = ""
        normalised.reserveCapacity(text.utf8.count)
        for character in text where character != " " && character != "-" && character != "\t" {
            guard character.isASCII, character.isLetter || character.isNumber else {
                throw .badInput("bad_card", "a member card has letters and digits only; check the card number and scan again")
            }
            normalised.append(Character(character.uppercased()))
        }
        guard normalised.count >= Self.minimumLength, normalised.count <= Self.maximumLength else {
            throw .badInput(
                "bad_card",
                "a member card number has \(Self.minimumLength) to \(Self.maximumLength) letters or digits; check the card and scan again")
        }
        guard !PaymentCardDetector.mentionsPaymentCard(normalised) else {
            throw .badInput("payment_card", "this is a bank card, not a member card; ask the customer for their loyalty card")
        }
        self.value = normalised
    }

    /// All but the last four characters hidden, for logs and other people's screens.
    public var masked: String {
        String(repeating: "•", count: max(0, value.count - 4)) + value.suffix(4)
    }

    public var description: String { value }

    public static func < (lhs: CardNumber, rhs: CardNumber) -> Bool { lhs.value < rhs.value }
}
