/// Member-card rules of a store: which scanned codes are member cards.
public struct CardScanRules: Hashable, Sendable, Codable {
    /// Stripped from the start of a scan when present (a scanner's configured prefix).
    public var prefix: String
    /// Stripped from the end of a scan when present.
    public var suffix: String
    /// Member-card number ranges: each a prefix (`"29"`) or an inclusive numeric range
    /// (`"2900000000000-2999999999999"`). Empty: in-store EAN/UPC ranges and any non-product code;
    /// set: only numbers in them.
    public var memberRanges: [String]

    public init(prefix: String = "", suffix: String = "", memberRanges: [String] = []) {
        self.prefix = prefix
        self.suffix = suffix
        self.memberRanges = memberRanges
    }

    func inMemberRange(_ number: String) -> Bool {
        memberRanges.contains { range in
            let bounds = range.split(separator: "-", maxSplits: 1)
            if bounds.count == 2, bounds[0].count == bounds[1].count, number.count == bounds[0].count,
                number.allSatisfy({ $0.isASCII && $0.isNumber })
            {
                return bounds[0] <= number && number <= bounds[1]
            }
            return number.hasPrefix(range)
        }
    }
}

/// Turns the text a scanner typed into a member card, or says why it is not one. Pure.
public struct CardScanParser: Sendable {
    public var rules: CardScanRules
    /// Longest scan accepted: longer input is not a card (a track-1 swipe is at most 79 characters).
    public static let maximumLength = 256

    public init(rules: CardScanRules = CardScanRules()) {
        self.rules = rules
    }

    public func parse(_ scanned: String) -> ScanOutcome {
        guard scanned.utf8.count <= Self.maximumLength else { return .rejected(reason: .unreadable, format: nil) }
        var text = Substring(scanned)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        if !rules.prefix.isEmpty, text.hasPrefix(rules.prefix) { text = text.dropFirst(rules.prefix.count) }
        if !rules.suffix.isEmpty, text.hasSuffix(rules.suffix) { text = text.dropLast(rules.suffix.count) }
        guard let first = text.first else { return .rejected(reason: .unreadable, format: nil) }
        if first == "%" || first == ";" { return parseSwipe(text) }
        return parseCode(String(text))
    }

    private func parseCode(_ text: String) -> ScanOutcome {
        let isDigits = text.allSatisfy { $0.isASCII && $0.isNumber }
        if isDigits {
            if PaymentCardDetector.isPaymentCard(text) {
                return .rejected(reason: .paymentCard, format: nil)
            }
            let gtin: CardFormat? =
                switch text.count {
                case 13: .ean13
                case 12: .upcA
                case 8: .ean8
                default: nil
                }
            if let gtin {
                // A number of EAN/UPC length carries a GS1 check digit, in a member range too: a misread
                // or mistyped digit must never become a member of its own.
                guard GTIN.hasValidCheckDigit(text) else { return .rejected(reason: .badCheckDigit, format: gtin) }
                // Configured ranges replace the in-store default: one definition of a member card.
                let isMember = rules.memberRanges.isEmpty ? isInStore(text, gtin) : rules.inMemberRange(text)
                return isMember ? member(text, gtin) : .rejected(reason: .notAMemberCard, format: gtin)
            }
            if !rules.memberRanges.isEmpty && !rules.inMemberRange(text) {
                return .rejected(reason: .notAMemberCard, format: nil)
            }
            if text.count == 10 || (text.count >= 8 && text.first == "0" && !Luhn.isValid(text)) {
                return member(text, .rfidDecimal)  // a 32-bit tag UID typed in decimal, zero-padded
            }
            return member(text, Luhn.isValid(text) && text.count >= 6 ? .luhn : .alphanumeric)
        }
        let isHex = text.allSatisfy(\.isHexDigit) && text.allSatisfy(\.isASCII)
        if isHex, [8, 14, 20].contains(text.count), text.contains(where: \.isLetter) {
            return rules.memberRanges.isEmpty || rules.inMemberRange(text.uppercased())
                ? member(text, .rfidHex) : .rejected(reason: .notAMemberCard, format: .rfidHex)
        }
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            return .rejected(reason: .unreadable, format: nil)
        }
        if !rules.memberRanges.isEmpty && !rules.inMemberRange(text.uppercased()) {
            return .rejected(reason: .notAMemberCard, format: .alphanumeric)
        }
        return member(text, .alphanumeric)
    }

    /// GS1 restricted-circulation (in-store) numbers: EAN-13/EAN-8 starting with 2, UPC-A with 2 or 4.
    private func isInStore(_ digits: String, _ format: CardFormat) -> Bool {
        switch format {
        case .upcA: digits.first == "2" || digits.first == "4"
        default: digits.first == "2"
        }
    }

    private func member(_ text: String, _ format: CardFormat) -> ScanOutcome {
        guard let card = try? CardNumber(text) else {
            return .rejected(reason: .unreadable, format: format)
        }
        return .member(card, format)
    }

    /// One or both ISO 7813 tracks: `%B<number>^<name>^<YYMM><data>?` and `;<number>=<YYMM><data>?`.
    private func parseSwipe(_ text: Substring) -> ScanOutcome {
        var number: Substring?
        var format: CardFormat?
        var rest = text
        while let sentinel = rest.first {
            guard sentinel == "%" || sentinel == ";" else { return .rejected(reason: .unreadableSwipe, format: format) }
            let body = rest.dropFirst()
            guard let end = body.firstIndex(of: "?") else {
                return .rejected(reason: .unreadableSwipe, format: format ?? (sentinel == "%" ? .track1 : .track2))
            }
            let track = body[..<end]
            rest = rest[rest.index(after: end)...]
            // A longitudinal redundancy check character may follow the end sentinel.
            if let next = rest.first, next != "%" && next != ";" { rest = rest.dropFirst() }
            let found: Substring?
            switch sentinel {
            case "%":
                let fields = track.split(separator: "^", omittingEmptySubsequences: false)
                guard fields.count >= 2, let code = fields[0].first, code.isLetter else {
                    return .rejected(reason: .unreadableSwipe, format: .track1)
                }
                found = fields[0].dropFirst()
                format = format ?? .track1
            case ";":
                let fields = track.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                found = fields[0]
                format = format ?? .track2
            default:
                return .rejected(reason: .unreadableSwipe, format: format)
            }
            guard let found, !found.isEmpty, found.count <= 19, found.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                return .rejected(reason: .unreadableSwipe, format: format)
            }
            // Two tracks of one swipe must agree on the card number.
            if let number, number != found { return .rejected(reason: .unreadableSwipe, format: format) }
            number = found
        }
        guard let number, let format else { return .rejected(reason: .unreadableSwipe, format: nil) }
        let digits = String(number)
        if PaymentCardDetector.isPaymentCard(digits) {
            return .rejected(reason: .paymentCard, format: nil)
        }
        if !rules.memberRanges.isEmpty && !rules.inMemberRange(digits) {
            return .rejected(reason: .notAMemberCard, format: format)
        }
        return member(digits, format)
    }
}
