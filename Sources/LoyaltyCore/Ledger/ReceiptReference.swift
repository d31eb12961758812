/// The POS receipt reference of a sale: the idempotency key that makes a retried sale earn once.
public struct ReceiptReference: Hashable, Sendable, Codable, CustomStringConvertible {
    public let value: String
    public static let maximumLength = 64

    /// Validates a receipt reference: 1 to 64 printable ASCII characters without spaces.
    public init(_ text: String) throws(LoyaltyError) {
        guard !text.isEmpty, text.count <= Self.maximumLength,
            text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else {
            throw .badInput(
                "bad_receipt",
                "a receipt reference is 1 to \(Self.maximumLength) printable characters without spaces, e.g. R-0001-2345")
        }
        guard !PaymentCardDetector.mentionsPaymentCard(text) else {
            throw .badInput(
                "payment_card", "the receipt reference holds a bank card number; use the POS receipt number instead")
        }
        self.value = text
    }

    public var description: String { value }
}
