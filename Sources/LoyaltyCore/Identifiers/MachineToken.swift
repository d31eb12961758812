import Foundation

/// Machine-readable tokens (ids, epochs, return references) that the payment-card redactor can never
/// rewrite. Everything the binaries print passes through ``PaymentCardDetector/redacted(_:)``; a random
/// hex token holds a run of 12–19 digits that passes the Luhn check often enough (about one in 300
/// store secrets) that printing it would cut it. A token is therefore drawn again until the redactor
/// leaves it as it is.
public enum MachineToken {
    /// The most draws before giving up: the chance that one draw is refused is far below 1 %.
    static let maximumDraws = 64

    /// Whether the redactor leaves `token` unchanged. A cheap scan first: only a chain of at least
    /// 12 digits (digit groups joined as the redactor joins them) can be altered.
    public static func isUnmistakable(_ token: String) -> Bool {
        var chainDigits = 0
        var longest = 0
        for byte in token.utf8 {
            if byte >= 0x80 { return PaymentCardDetector.redacted(token) == token }  // digits of other scripts
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                chainDigits += 1
                longest = max(longest, chainDigits)
            } else if !PaymentCardDetector.asciiGroupJoiners.contains(Character(Unicode.Scalar(byte))) {
                chainDigits = 0
            }
        }
        if longest < 12 { return true }
        return PaymentCardDetector.redacted(token) == token
    }

    /// The first of `draw()`'s results that the redactor leaves unchanged.
    public static func drawn(_ draw: () -> String) -> String {
        for _ in 1..<maximumDraws {
            let token = draw()
            if isUnmistakable(token) { return token }
        }
        let token = draw()
        precondition(isUnmistakable(token), "\(maximumDraws) random tokens in a row looked like bank card numbers")
        return token
    }

    /// A random UUID, lower case, that the redactor leaves unchanged.
    public static func uuid() -> String { drawn { UUID().uuidString.lowercased() } }

    /// A random 128-bit hex token without dashes, that the redactor leaves unchanged.
    public static func hex128() -> String {
        drawn { UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "") }
    }

    /// Whether `text` is shaped like a UUID (8-4-4-4-12 hex digits): the entry ids every till has made.
    /// Such an id is a machine's, never a card typed by mistake, whatever digits it holds.
    public static func isUUIDShaped<S: StringProtocol>(_ text: S) -> Bool {
        guard text.utf8.count == 36 else { return false }
        for (index, byte) in text.utf8.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                let hex =
                    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66) || (byte >= 0x41 && byte <= 0x46)
                guard hex else { return false }
            }
        }
        return true
    }

    /// `text` with every UUID-shaped word (separated by spaces) replaced by `uuid`: free text a till
    /// composed around its own ids ("refund 0190…") is checked for card numbers without them.
    public static func withoutUUIDs(_ text: String) -> String {
        text.split(separator: " ", omittingEmptySubsequences: false).map { isUUIDShaped($0) ? "uuid" : String($0) }
            .joined(separator: " ")
    }
}
