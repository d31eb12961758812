import TestSupport
import Testing

@testable import LoyaltyCore

@Suite struct CardTests {
    @Test func normalisesMemberCards() throws {
        #expect(try CardNumber("  2900-0007 77774 ").value == "2900000777774")
        #expect(try CardNumber("ab12cd").value == "AB12CD")
        #expect(try CardNumber("2900000777774").masked.hasSuffix("7774"))
        #expect(!(try CardNumber("2900000777774").masked.contains("29000")))
    }

    @Test(arguments: ["", "123", "abc!", "ä1234", String(repeating: "1", count: 41), "12\u{0}34"])
    func refusesMalformedCards(_ text: String) {
        #expect(throws: LoyaltyError.self) { try CardNumber(text) }
    }

    /// Well-known test numbers of the major schemes.
    @Test(arguments: [
        "4111111111111111", "4012888888881881", "5555555555554444", "5105105105105100", "2221000000000009",
        "378282246310005", "371449635398431", "6011111111111117", "3530111333300000", "6200000000000005",
        "30569309025904",
    ])
    func refusesPaymentCardsWithoutEchoingThem(_ pan: String) {
        #expect(PaymentCardDetector.isPaymentCard(pan))
        do {
            _ = try CardNumber(pan)
            Issue.record("a payment card was accepted as a member card")
        } catch {
            #expect(error.code == "payment_card")
            #expect(!error.message.contains(pan.suffix(8)))
        }
    }

    @Test func memberCardsThatAreNotPaymentCardsPass() throws {
        // EAN-13 in-store range, 13 digits starting 2: not a payment card length/prefix.
        #expect(!PaymentCardDetector.isPaymentCard("2900000777774"))
        // Luhn-invalid 16-digit Visa-like number is not a payment card.
        #expect(!PaymentCardDetector.isPaymentCard("4111111111111112"))
        _ = try CardNumber("4111111111111112")
    }

    @Test func luhnAgreesWithTheDefinitionForRandomNumbers() {
        var random = SeededRandom(seed: 7)
        for _ in 0..<20_000 {
            let length = Int.random(in: 1...19, using: &random)
            let digits = (0..<length).map { _ in Int.random(in: 0...9, using: &random) }
            // Reference: double every second digit from the right, sum digits, mod 10.
            var sum = 0
            for (index, digit) in digits.reversed().enumerated() {
                let value = index % 2 == 1 ? digit * 2 : digit
                sum += value / 10 + value % 10
            }
            #expect(Luhn.isValid(digits.map(String.init).joined()) == (sum % 10 == 0))
        }
    }

    /// One rule for a bank card: a member card holding a whole card number (a digit or a letter glued
    /// on) is refused like the card itself; an in-store card that merely holds a Luhn-valid 12-digit
    /// window (about 1 in 100 of them) is a member card, everywhere (it once blocked its store's sync).
    @Test func aCardHoldingABankCardIsRefusedAndAnInStoreCardIsNot() throws {
        for card in ["94111111111111111", "41111111111111119", "X4111111111111111", "4111111111111111A"] {
            #expect(throws: LoyaltyError.self, "\(card)") { try CardNumber(card) }
        }
        #expect(try CardNumber("2500000000041").value == "2500000000041")
        #expect(!PaymentCardDetector.mentionsPaymentCard("enroll-2500000000041"))
        // A figure of the binaries' own JSON output is left alone; the same text from outside is not.
        #expect(PaymentCardDetector.redacted(#"{"points":4111111111111111}"#).contains("4111111111111111"))
        #expect(PaymentCardDetector.mentionsPaymentCard(#"R"x":4111111111111111"#))
        for text in ["", "R-1", "2900000777774", "4111111111111111", "enroll-4111111111111111"] {
            #expect(PaymentCardDetector.mentionsPaymentCard(text) == (PaymentCardDetector.redacted(text) != text), "\(text)")
        }
    }

    @Test func datesAreRealCalendarDays() throws {
        #expect(try CalendarDate(parsing: "2024-02-29").description == "2024-02-29")
        for bad in ["2023-02-29", "1990-13-01", "1990-4-23", "23.04.1990", "1990-04-31", "", "2000-00-10"] {
            #expect(throws: LoyaltyError.self) { try CalendarDate(parsing: bad) }
        }
        // Found by attack: a real day outside the supported years was called "not a real calendar day".
        #expect { try CalendarDate(parsing: "1800-01-01") } throws: { "\($0)".contains("outside the years 1900 to 2200") }
    }

    /// Found by attack: members born on 29 February had no birthday three years in four.
    @Test func aLeapDayBirthdayIsCelebratedOnTheTwentyEighthOutsideLeapYears() throws {
        let leapDay = try #require(BirthdayMonthDay("2024-02-29"))
        #expect(leapDay.celebrated(inYear: 2027) == BirthdayMonthDay(month: 2, day: 28))
        #expect(leapDay.celebrated(inYear: 2028) == leapDay)
        #expect(leapDay.celebrated(inYear: 2100) == BirthdayMonthDay(month: 2, day: 28))
        #expect(leapDay.celebrated(inYear: 2000) == leapDay)
        let other = try #require(BirthdayMonthDay("1990-03-01"))
        #expect(other.celebrated(inYear: 2027) == other)
    }

    /// Found by attack: `enroll --birthday 2099-01-01` was accepted. A birthday is a day that has come
    /// (tomorrow still passes: somewhere on earth it is already tomorrow).
    @Test func aBirthdayInTheFutureIsRefused() throws {
        let now: Int64 = 1_796_428_800_000 + 11 * 3_600_000  // 2026-12-05T11:00:00Z: 2026-12-06 01:00 in UTC+14
        for good in ["1990-04-23", "2026-12-05", "2026-12-06", "1900-01-01"] {
            #expect(throws: Never.self) { try CalendarDate(parsing: good).requireBirthday(atMilliseconds: now) }
        }
        #expect { try CalendarDate(parsing: "2026-12-06").requireBirthday(atMilliseconds: now - 2 * 3_600_000) } throws: {
            ($0 as? LoyaltyError)?.code == "bad_birthday"
        }
        for bad in ["2026-12-07", "2099-01-01", "2200-12-31"] {
            #expect { try CalendarDate(parsing: bad).requireBirthday(atMilliseconds: now) } throws: {
                ($0 as? LoyaltyError)?.code == "bad_birthday"
            }
        }
        #expect(throws: Never.self) { try CalendarDate(parsing: "1990-04-23").requireBirthday(atMilliseconds: .max) }
    }
}

/// Bank card numbers never leave a message: the redactor every printed line passes through.
@Suite struct PaymentCardRedactionTests {
    @Test(arguments: [
        "amount '4111111111111111' is too large", "card 4111 1111 1111 1111 refused", "x5555-5555-5555-4444y",
        "--port 378282246310005", "99414111111111111111",
        // Defect: these got through the detector into receipts and names at head office.
        "receipt 4111.1111.1111.1111", "4111/1111/1111/1111", "41-11-11-11-11-11-11-11", "41 11 11 11 11 11 11 11",
        "Ana ４１１１１１１１１１１１１１１１", "R-４１１１ １１１１ １１１１ １１１１", "٤١١١١١١١١١١١١١١١",
        "3782-822463-10005",
        // Found by review: other separators, doubled ones, glued digits, other scripts and spaces.
        "4111_1111_1111_1111", "4111,1111,1111,1111", "4111+1111+1111+1111", "4111:1111:1111:1111",
        "4111|1111|1111|1111", "4111~1111~1111~1111", "4111*1111*1111*1111", "4111--1111--1111--1111",
        "R14111-1111-1111-1111", "4111-1111-1111-11119", "4-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1",
        "4111\u{a0}1111\u{a0}1111\u{a0}1111", "4111\u{3000}1111\u{3000}1111\u{3000}1111",
        "4111\u{200b}1111\u{200b}1111\u{200b}1111", "4111  1111  1111  1111", "4111–1111–1111–1111",
        "⁴¹¹¹¹¹¹¹¹¹¹¹¹¹¹¹", "④①①①①①①①①①①①①①①①", "Bob 94111 1111 1111 1111", "94111111111111111",
        "X4111111111111111", "4111111111111111A", "4111 - 1111 - 1111 - 1111", "41111111 11111111",
        // Found by attack: a card split in two uneven parts (issuer prefix and the rest) was stored and printed.
        "411111 1111111111", "4111111111 111111", "4111111 111111111", "J 4111111111111 111", "411111-1111111111",
        "4111'1111'1111'1111", "4111’1111’1111’1111", "4111·1111·1111·1111", "4111•1111•1111•1111",
        "4111−1111−1111−1111", "4111#1111#1111#1111", "4111=1111=1111=1111", "4111;1111;1111;1111",
        #"4111"1111"1111"1111"#, "(4111)(1111)(1111)(1111)", "[4111][1111][1111][1111]", #"4111\1111\1111\1111"#,
    ])
    func aBankCardNumberIsRemovedFromText(_ text: String) {
        let safe = PaymentCardDetector.redacted(text)
        #expect(safe.contains("[bank card number removed]"), "\(safe)")
        for digits in ["1111111", "4444", "310005", "11-11", "11 11", "１１１１", "١١١１", "¹¹¹¹", "①①①①"] {
            #expect(!safe.contains(digits), "\(safe)")
        }
        #expect(PaymentCardDetector.mentionsPaymentCard(text))
    }

    @Test(arguments: [
        "Awarded 12 points to card 2900000777774 for 12.50 EUR", "seq 1795340000000", "2026-11-23 12:00", "",
        "12.50 13.20 4.10 99.99", "2026/11/23 4 111 1 1", "id-1-2900000777774", "١٢٣",
        // An in-store member card holding a Luhn-valid 12-digit window, its receipt and coupon code.
        "2500000000041", "enroll-2500000000041", "WELCOME-2500000000041", "5000000000.41 EUR",
        #"{"balance":500000000041,"points":4111111111111111}"#, "2026-11-23 12:00:05",
        "5000000000,41 EUR", "total 1234567890 12", "id:130:2900000500123", "130/2900000500123",
    ])
    func otherNumbersAreLeftAlone(_ text: String) {
        #expect(PaymentCardDetector.redacted(text) == text)
    }
}

/// A name is shown on the till, the kiosk, head office's reports and CSV exports: characters that
/// reorder or hide text there (bidi overrides, zero-width spaces) would make one name look like another.
@Suite struct MemberNameTests {
    @Test(arguments: [
        "Ana\u{202E}lipA", "\u{2066}Ana\u{2069}", "A\u{200B}na", "Ana\u{FEFF}", "\u{200F}Ana", "A\u{2060}na", "Ana\u{061C}",
        "Ana\u{00AD}",
        // Found by an outside review: a name of only a joiner or a filler, line separators, invisible fillers.
        "\u{200C}", "\u{3164}", "\u{2800}", "Eve\u{2028}Line2", "Eve\u{2029}Ada", "A\u{034F}na", "\u{115F}Ana", "Ana\u{FFA0}",
        // Found by attack: bytes that are not UTF-8 (a terminal in another encoding) arrive as replacement marks.
        "\u{FFFD}\u{FFFD}Ann",
    ])
    func namesWithInvisibleOrReorderingCharactersAreRefused(_ name: String) {
        #expect(throws: LoyaltyError.self) { try MemberName.validated(name) }
    }

    @Test(arguments: ["Ana María", "José Ñúñez", "Zoë O'Brien-Smith", "李小龍", "محمد", "नमस्ते", "می\u{200C}خواهم"])
    func namesInEveryScriptPass(_ name: String) throws {
        #expect(try MemberName.validated(name) == name)
    }
}
