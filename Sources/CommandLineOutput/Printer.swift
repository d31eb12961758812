import Foundation
internal import LoyaltyCore

/// Writes results to stdout and errors to stderr, unbuffered, one JSON object or human text.
/// Everything printed passes through the payment-card redactor: an error message that repeats what
/// the user typed can never print a bank card number.
public enum Printer {
    public static func json(_ value: any Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    public static func out(_ text: String) { write(line(text), to: 1) }
    public static func err(_ text: String) { write(line(text), to: 2) }

    private static func line(_ text: String) -> String {
        let safe = PaymentCardDetector.redacted(text)
        return safe.hasSuffix("\n") ? safe : safe + "\n"
    }

    /// Plain write(2): a reader that went away (`| head`) ends the output quietly; FileHandle's write
    /// traps on EPIPE and crashed the command.
    private static func write(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if written <= 0 {
                if written < 0 && errno == EINTR { continue }
                return
            }
            bytes = bytes.dropFirst(written)
        }
    }
}
