import Crypto
public import Foundation
import LoyaltyCore

/// HMAC-SHA256 request signatures: each request is signed with the store's secret over its method,
/// path (with query), the SHA-256 of its body, a timestamp and a nonce.
public enum RequestSigning {
    public static let storeHeader = "X-Loyalty-Store"
    public static let timestampHeader = "X-Loyalty-Timestamp"
    public static let nonceHeader = "X-Loyalty-Nonce"
    public static let signatureHeader = "X-Loyalty-Signature"
    /// On head office's answers to a push or a pull: its clock (milliseconds since 1970), so a till follows it
    /// at every sync, not only after a `stale` refusal (a clock set right again, or a few minutes off).
    public static let headOfficeTimeHeader = "X-Loyalty-Head-Office-Time-Ms"
    /// Requests older or newer than this are refused (clock skew allowance).
    public static let maximumClockSkewSeconds: Int64 = 300

    /// Whether `timestamp` lies within ``maximumClockSkewSeconds`` of `nowSeconds`. Overflow-safe for
    /// any pair of values (a timestamp comes from the wire before anything is verified).
    public static func isWithinClockSkew(timestamp: Int64, nowSeconds: Int64) -> Bool {
        let (difference, overflow) = nowSeconds.subtractingReportingOverflow(timestamp)
        return !overflow && difference.magnitude <= UInt64(maximumClockSkewSeconds)
    }

    /// The signed string: one field per line.
    public static func canonical(
        method: String, path: String, body: some DataProtocol, timestamp: Int64, nonce: String
    ) -> String {
        let bodyDigest = SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
        return "\(method.uppercased())\n\(path)\n\(bodyDigest)\n\(timestamp)\n\(nonce)"
    }

    /// The signature header value (lower-case hex).
    public static func signature(
        secret: String, method: String, path: String, body: some DataProtocol, timestamp: Int64, nonce: String
    ) -> String {
        let key = SymmetricKey(data: Data(secret.utf8))
        let message = canonical(method: method, path: path, body: body, timestamp: timestamp, nonce: nonce)
        return HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key).map { String(format: "%02x", $0) }
            .joined()
    }

    /// The headers a store adds to a request.
    public static func headers(
        storeId: String, secret: String, method: String, path: String, body: some DataProtocol, now: Date = Date()
    ) -> [(String, String)] {
        let timestamp = Int64(now.timeIntervalSince1970)
        let nonce = UUID().uuidString.lowercased()
        return [
            (storeHeader, storeId), (timestampHeader, String(timestamp)), (nonceHeader, nonce),
            (
                signatureHeader,
                signature(secret: secret, method: method, path: path, body: body, timestamp: timestamp, nonce: nonce)
            ),
        ]
    }

    /// Constant-time check of a presented signature against the expected one.
    public static func isValid(
        signature presented: String, secret: String, method: String, path: String, body: some DataProtocol,
        timestamp: Int64, nonce: String
    ) -> Bool {
        let expected = signature(
            secret: secret, method: method, path: path, body: body, timestamp: timestamp, nonce: nonce)
        guard presented.utf8.count == expected.utf8.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(presented.utf8, expected.utf8) { difference |= a ^ b }
        return difference == 0
    }

    /// The secret one till of a store signs with: derived from the store's secret and the till's number,
    /// so every till has a secret of its own while the store is given one (`loyalty-hq stores add`). Head
    /// office and the store hub derive the same; rotating or revoking the store's secret does it for its tills.
    public static func tillSecret(storeSecret: String, till: Int) -> String {
        let key = SymmetricKey(data: Data(storeSecret.utf8))
        let code = HMAC<SHA256>.authenticationCode(for: Data("loyalty till \(till)".utf8), using: key)
        return String(
            decoding: code.flatMap { [UInt8(ascii: "a") + ($0 >> 4), UInt8(ascii: "a") + ($0 & 0x0F)] }, as: UTF8.self)
    }

    /// The secret the ledger `ledgerName` signs with, given its store's secret.
    public static func ledgerSecret(storeSecret: String, ledgerName: String) -> String {
        guard let till = TillIdentity(ledgerName: ledgerName)?.till else { return storeSecret }
        return tillSecret(storeSecret: storeSecret, till: till)
    }

    /// A new store secret: 32 random bytes, each half-byte written as one of the letters `a` to `p`.
    /// Letters only, so that no run of digits in it can be taken for a bank card number by the output
    /// redactor (hex secrets were cut in about one store of 300). Secrets of the earlier hex form still
    /// verify: a secret is its text, whatever its letters.
    public static func newSecret() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { bytes in
            String(
                decoding: bytes.flatMap { [UInt8(ascii: "a") + ($0 >> 4), UInt8(ascii: "a") + ($0 & 0x0F)] },
                as: UTF8.self)
        }
    }
}
