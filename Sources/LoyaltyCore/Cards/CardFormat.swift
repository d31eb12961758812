/// How a scanned code was written on the card.
public enum CardFormat: String, Sendable, Codable, CaseIterable {
    case ean13 = "ean-13"
    case ean8 = "ean-8"
    case upcA = "upc-a"
    /// A Luhn-checked number that is not a payment card.
    case luhn
    /// Any other letters-and-digits id (Code 128, Code 39 and the like).
    case alphanumeric
    /// Magstripe ISO 7813 track 1 (`%B…^…^…?`).
    case track1 = "track-1"
    /// Magstripe ISO 7813 track 2 (`;…=…?`).
    case track2 = "track-2"
    /// An RFID reader typing the tag's UID in hexadecimal.
    case rfidHex = "rfid-hex"
    /// An RFID reader typing the tag's UID in decimal.
    case rfidDecimal = "rfid-decimal"
}

/// What a scan turned out to be.
public enum ScanOutcome: Hashable, Sendable {
    /// A member card, normalised.
    case member(CardNumber, CardFormat)
    /// Not a member card. `format` is what was recognised, if anything. The reason never contains
    /// the scanned text when it could be a payment card.
    case rejected(reason: ScanRejection, format: CardFormat?)
}

/// Why a scan is not a member card; each says what the cashier should do.
public enum ScanRejection: String, Sendable, Codable, CaseIterable {
    /// A bank card: refused, and its number is not kept anywhere.
    case paymentCard = "payment_card"
    /// A product barcode (EAN/UPC outside the in-store ranges) or a number outside the member ranges.
    case notAMemberCard = "not_a_member_card"
    /// An EAN/UPC-length number whose check digit is wrong: a misread.
    case badCheckDigit = "bad_check_digit"
    /// A magstripe swipe that could not be read.
    case unreadableSwipe = "unreadable_swipe"
    /// Text that is no card format at all.
    case unreadable

    public var advice: String {
        switch self {
        case .paymentCard: "this is a bank card, not a member card; ask the customer for their loyalty card"
        case .notAMemberCard: "this is not a member card (a product barcode?); scan the loyalty card"
        case .badCheckDigit: "the code was misread (check digit wrong); scan again"
        case .unreadableSwipe: "the swipe could not be read; swipe again, steadily"
        case .unreadable: "the scan could not be read as a card; scan again"
        }
    }
}
