import Testing

@testable import CardReader
@testable import LoyaltyCore

@Suite struct CardScanParserTests {
    let parser = CardScanParser()

    func member(_ text: String, _ parser: CardScanParser? = nil) -> (String, CardFormat)? {
        if case .member(let card, let format) = (parser ?? self.parser).parse(text) { return (card.value, format) }
        return nil
    }

    func rejection(_ text: String, _ parser: CardScanParser? = nil) -> ScanRejection? {
        if case .rejected(let reason, _) = (parser ?? self.parser).parse(text) { return reason }
        return nil
    }

    @Test func barcodes() {
        #expect(member("2900000777774")! == ("2900000777774", .ean13))
        #expect(rejection("4006381333931") == .notAMemberCard)  // a product
        #expect(rejection("2900000777775") == .badCheckDigit)
        #expect(member("20123451")! == ("20123451", .ean8))
        #expect(rejection("96385074") == .notAMemberCard)  // EAN-8 product
        #expect(member("400000000015")! == ("400000000015", .upcA))
        #expect(member("ab-12-cd")! == ("AB12CD", .alphanumeric))
        #expect(member("29000001239")! == ("29000001239", .luhn))
    }

    @Test func magstripeTracks() {
        #expect(member("%B9100000000001^MEMBER/ANA^3012?")! == ("9100000000001", .track1))
        #expect(member(";9100000000001=3012?")! == ("9100000000001", .track2))
        #expect(member("%B9100000000001^MEMBER/ANA^3012?;9100000000001=3012?")! == ("9100000000001", .track1))
        #expect(rejection("%B9100000000001^A^1?;9100000000002=3012?") == .unreadableSwipe)  // tracks disagree
        #expect(rejection("%B91000^NAME") == .unreadableSwipe)
        #expect(rejection(";=?") == .unreadableSwipe)
    }

    @Test(arguments: [
        "%B4111111111111111^DOE/JOHN^2512101000000000?;4111111111111111=25121010000000000?",
        ";5555555555554444=2512101?", "4111111111111111", "378282246310005",
    ])
    func paymentCardsAreRefusedWithoutTheirNumber(_ swipe: String) {
        let outcome = parser.parse(swipe)
        #expect(outcome == .rejected(reason: .paymentCard, format: nil))
        #expect(!"\(outcome)".contains("1111") && !"\(outcome)".contains("4444") && !"\(outcome)".contains("0005"))
    }

    @Test func rfidUIDs() {
        #expect(member("04a3b2c1d2e380")! == ("04A3B2C1D2E380", .rfidHex))
        #expect(member("0012345678")! == ("0012345678", .rfidDecimal))
    }

    @Test func configuredPrefixesSuffixesAndRanges() {
        let configured = CardScanParser(rules: CardScanRules(prefix: "]C1", suffix: "#", memberRanges: ["77", "9000-9999"]))
        #expect(member("]C1770012#", configured)! == ("770012", .alphanumeric))
        #expect(member("9123", configured)!.0 == "9123")
        #expect(rejection("8123", configured) == .notAMemberCard)
        #expect(rejection("ABCD1234", configured) == .notAMemberCard)
        // No member range lets a bank card through, and a range that overlaps bank cards is refused.
        let bankLike = CardScanParser(rules: CardScanRules(memberRanges: ["411111"]))
        #expect(rejection("4111111111111111", bankLike) == .paymentCard)
        for range in ["411111", "4", "2", "51", "5100000000000000-5199999999999999", "6011"] {
            #expect(throws: LoyaltyError.self, "\(range)") { try CardScanRules(memberRanges: [range]).validated() }
        }
        for range in ["29", "77", "9000-9999", "2900000000000-2999999999999", "B0A"] {
            #expect(throws: Never.self, "\(range)") { try CardScanRules(memberRanges: [range]).validated() }
        }
        #expect(throws: LoyaltyError.self) { try CardScanRules(memberRanges: ["99-1"]).validated() }
        #expect(throws: LoyaltyError.self) { try CardScanRules(memberRanges: ["12-345"]).validated() }
    }

    /// Defect: once member ranges were set, a misread EAN-13 (`2900000000019`, check digit wrong) in a
    /// range was taken for a member card of its own numbering and enrolled. Every range keeps GS1's
    /// check digit on numbers of EAN/UPC length, as without ranges.
    @Test(arguments: [["29"], ["2900000000000-2999999999999"], []])
    func aMisreadCheckDigitIsRefusedInsideMemberRangesToo(_ ranges: [String]) {
        let parser = CardScanParser(rules: CardScanRules(memberRanges: ranges))
        for misread in ["2900000000019", "2900000000039", "2900000777775"] {
            #expect(rejection(misread, parser) == .badCheckDigit, "\(misread) with \(ranges)")
            #expect(throws: LoyaltyError.self) { try CardScanRules(memberRanges: ranges).memberCard(typed: misread) }
        }
        #expect(member("2900000000018", parser)! == ("2900000000018", .ean13))
    }

    /// One definition of a member card: a typed number is accepted exactly when its scan would be.
    @Test(arguments: [
        "2900000777774", "4111111111111111", "4006381333931", "2900000777775", "B0A1234", "04a3b2c1d2e380",
        "%B4111111111111111^DOE/JOHN^2512101000000000?", "12!", "0012345678", "2900 0007 7777 4",
    ])
    func typedNumbersFollowTheScanRules(_ text: String) {
        for rules in [CardScanRules(), CardScanRules(memberRanges: ["29"])] {
            let scanned = CardScanParser(rules: rules).parse(text.replacingOccurrences(of: " ", with: ""))
            let typed = Result { () throws(LoyaltyError) -> CardNumber in try rules.memberCard(typed: text) }
            switch (scanned, typed) {
            case (.member(let card, _), .success(let typedCard)):
                #expect(card == typedCard)
            case (.rejected(let reason, _), .failure(let error)):
                if reason != .unreadable { #expect(error.code == reason.rawValue) }
                #expect(!error.message.contains("1111111"))
            default:
                Issue.record("scan \(scanned) but typed \(typed) for \(text) with \(rules.memberRanges)")
            }
        }
    }

    @Test(arguments: ["", "   ", "hello world", "12!", String(repeating: "9", count: 300), "日本語"])
    func junkIsUnreadable(_ text: String) {
        #expect(rejection(text) != nil)
    }
}
