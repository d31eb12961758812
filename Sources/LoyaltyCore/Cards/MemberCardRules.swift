/// The one definition of a member card, shared by every way a card number arrives: a scan, a
/// number the cashier types into a command, a card pushed down by head office.
extension CardScanRules {
    /// The rules, checked: each member range is a prefix of letters and digits or `FROM-TO` with
    /// bounds of equal length, and none may overlap a payment-card range (a bank card is never a
    /// member card, so such a range could only ever let one through).
    public func validated() throws(LoyaltyError) -> CardScanRules {
        for range in memberRanges {
            let bounds = range.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let isDigits: (String) -> Bool = { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }
            if bounds.count == 2 {
                guard isDigits(bounds[0]), isDigits(bounds[1]), bounds[0].count == bounds[1].count, bounds[0] <= bounds[1]
                else {
                    throw .badInput(
                        "bad_member_range",
                        "member range '\(PaymentCardDetector.redacted(String(range.prefix(45))))' must be FROM-TO with "
                            + "digits of equal length, FROM ≤ TO, e.g. 2900000000000-2999999999999")
                }
                if PaymentCardDetector.overlapsPaymentRanges(
                    lowPrefix: bounds[0], highPrefix: bounds[1], lengths: bounds[0].count...bounds[0].count)
                {
                    throw Self.overlapError(range)
                }
            } else {
                guard (1...CardNumber.maximumLength).contains(range.count),
                    range.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
                else {
                    throw .badInput(
                        "bad_member_range",
                        "member range '\(PaymentCardDetector.redacted(String(range.prefix(45))))' must be a prefix of "
                            + "letters and digits or FROM-TO, e.g. 29")
                }
                if PaymentCardDetector.overlapsPaymentRanges(
                    lowPrefix: range, highPrefix: range, lengths: range.count...CardNumber.maximumLength)
                {
                    throw Self.overlapError(range)
                }
            }
        }
        return self
    }

    /// The range is not repeated: its bounds may be a bank card number and its neighbours.
    private static func overlapError(_ range: String) -> LoyaltyError {
        .badInput(
            "member_range_covers_payment_cards",
            "a member range of \(range.count) characters overlaps bank card numbers; "
                + "give the exact length as FROM-TO (e.g. 2900000000000-2999999999999 for 13-digit cards)")
    }

    /// The member card a typed number names, by the same rules as a scan of it: a bank card, a product
    /// barcode, a misread check digit or a number outside the member ranges is refused with the reason.
    public func memberCard(typed text: String) throws(LoyaltyError) -> CardNumber {
        // Typed numbers may carry the spaces and dashes printed on the card.
        let compact = String(text.filter { $0 != " " && $0 != "-" && $0 != "\t" })
        switch CardScanParser(rules: CardScanRules(memberRanges: memberRanges)).parse(compact) {
        case .member(let card, _):
            return card
        case .rejected(let reason, _):
            // Typed text that is no scan format at all gets CardNumber's own explanation.
            if reason == .unreadable || reason == .unreadableSwipe { _ = try CardNumber(text) }
            throw .badInput(reason.rawValue, reason.advice)
        }
    }

    /// Whether `card` lies in the chain's member-card ranges: the configured ranges, else the in-store
    /// EAN-13 numbers (prefix 2, GS1 check digit) chains print on their cards. Such a card earns at a
    /// till that has not heard of it yet, as a provisional member.
    public func isChainMemberCard(_ card: CardNumber) -> Bool {
        if !memberRanges.isEmpty { return inMemberRange(card.value) }
        return card.value.count == 13 && card.value.first == "2" && GTIN.hasValidCheckDigit(card.value)
    }
}
