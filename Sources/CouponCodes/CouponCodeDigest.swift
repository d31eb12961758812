import Crypto
public import Foundation
public import LoyaltyCore

extension CouponRule {
    /// 14 capital letters from SHA-256 of `text`: the part of a coupon code after its name, the same at every till
    /// and at head office; not a card number, and nothing the output redactor can take for one.
    public static func codeDigest(_ text: String) -> String {
        String(SHA256.hash(data: Data(text.utf8)).prefix(14).map { Character(UnicodeScalar(UInt8(65) + $0 % 26)) })
    }
}
