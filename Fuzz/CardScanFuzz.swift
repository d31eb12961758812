// libFuzzer target over the pure parsers a scanner or a POS script feeds with untrusted text:
// card scans (barcodes, magstripe tracks, RFID), card numbers, money amounts, receipts, dates.
// Built and run by scripts/fuzz (swiftc -sanitize=fuzzer,address with LoyaltyCore's sources).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let rules = CardScanRules(prefix: "]C1", suffix: "#", memberRanges: size % 2 == 0 ? [] : ["29", "9000-9999"])
    switch CardScanParser(rules: rules).parse(text) {
    case .member(let card, _):
        // A member card is never a payment card, whatever the ranges, and always normalised.
        precondition(card.value.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) })
        precondition(!PaymentCardDetector.isPaymentCard(card.value))
    case .rejected: break
    }
    // A typed number follows the same rules, and no message repeats a bank card number.
    do {
        let card = try rules.memberCard(typed: text)
        precondition(!PaymentCardDetector.isPaymentCard(card.value))
    } catch {
        precondition(!PaymentCardDetector.mentionsPaymentCard(error.message))
    }
    _ = try? CardScanRules(memberRanges: [text]).validated()
    let redacted = PaymentCardDetector.redacted(text)
    precondition(PaymentCardDetector.redacted(redacted) == redacted, "redaction leaves no bank card number")
    _ = try? CardNumber(text)
    if let money = try? Money(parsing: text, currency: .euro) {
        precondition(money.minorUnits >= 0 && (try? Money(parsing: money.decimalString, currency: .euro)) == money)
    }
    _ = try? ReceiptReference(text)
    _ = try? CalendarDate(parsing: text)
    return 0
}
