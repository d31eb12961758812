import TestSupport
import Testing

@testable import LoyaltyCore

@Suite struct MoneyTests {
    @Test func parsesDecimalStringsExactly() throws {
        let eur = Currency.euro
        #expect(try Money(parsing: "12.50", currency: eur).minorUnits == 1250)
        #expect(try Money(parsing: "12.5", currency: eur).minorUnits == 1250)
        #expect(try Money(parsing: "12", currency: eur).minorUnits == 1200)
        #expect(try Money(parsing: "0.01", currency: eur).minorUnits == 1)
        #expect(try Money(parsing: "007.10", currency: eur).minorUnits == 710)
        let yen = try Currency.named("JPY")
        #expect(try Money(parsing: "1250", currency: yen).minorUnits == 1250)
        let dinar = try Currency.named("KWD")
        #expect(try Money(parsing: "1.005", currency: dinar).minorUnits == 1005)
    }

    @Test(arguments: [
        "", "-1", "-0.01", "+1", "1e3", "12,50", " 12", "12 ", "1.2.3", ".5", "5.", "12.505", "abc", "١٢",
        "99999999999999999999", "0x10", "NaN", "inf", "12.5€", "1_000",
    ])
    func refusesMalformedAmounts(_ text: String) {
        #expect(throws: LoyaltyError.self) { try Money(parsing: text, currency: .euro) }
        do {
            _ = try Money(parsing: text, currency: .euro)
        } catch {
            #expect(error.category == .badInput)
            #expect(!error.message.isEmpty)
        }
    }

    @Test func yenHasNoFraction() throws {
        #expect(throws: LoyaltyError.self) { try Money(parsing: "12.5", currency: try Currency.named("JPY")) }
    }

    @Test func formatAndParseRoundTripForRandomAmounts() throws {
        var random = SeededRandom(seed: 42)
        for currency in [Currency.euro, try Currency.named("JPY"), try Currency.named("KWD")] {
            for _ in 0..<20_000 {
                let minor = Int64.random(in: 0...Money.maximumMinorUnits, using: &random)
                let money = Money(minorUnits: minor, currency: currency)
                #expect(try Money(parsing: money.decimalString, currency: currency) == money)
            }
        }
    }

    @Test func refusesAmountsAboveTheMaximum() {
        #expect(throws: LoyaltyError.self) { try Money(parsing: "10000000000.01", currency: .euro) }
        #expect((try? Money(parsing: "10000000000.00", currency: .euro)) != nil)
    }
}
