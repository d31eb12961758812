import TestSupport
import Foundation
import HeadOffice
import LoyaltyCore
import Testing

/// The two new file formats read from outside (history CSV, program YAML) under random damage:
/// never a crash, always either a result or an error that names a line.
@Suite struct ParserFuzzTests {
    static let history = """
        card,store,receipt,time,amount
        2900000777774,OLD,R1,2026-03-01T10:00:00Z,12.50
        2900000777774,OLD,R1,2026-03-02T10:00:00+01:00,-2.50
        "2900000123458",OLD-2,"R2",2026-03-03T10:00:00,7
        """

    static func mutate(_ text: String, _ random: inout SeededRandom) -> String {
        var scalars = Array(text.unicodeScalars)
        let alphabet: [Unicode.Scalar] = Array("0123456789,-:.\"\n\r Z+TéB^%?;=\u{0}".unicodeScalars) + ["\u{1F600}", "\u{FEFF}"]
        for _ in 0..<Int.random(in: 1...8, using: &random) {
            guard !scalars.isEmpty else { break }
            let index = Int.random(in: 0..<scalars.count, using: &random)
            switch Int.random(in: 0..<4, using: &random) {
            case 0: scalars.remove(at: index)
            case 1: scalars.insert(alphabet.randomElement(using: &random)!, at: index)
            case 2: scalars[index] = alphabet.randomElement(using: &random)!
            default: scalars.insert(contentsOf: scalars[index..<min(scalars.count, index + 40)], at: index)
            }
        }
        var result = ""
        result.unicodeScalars.append(contentsOf: scalars)
        return result
    }

    @Test func damagedHistoryFilesNeverCrashAndNameTheirLines() throws {
        var random = SeededRandom(seed: TestSeed.make("damagedHistoryFiles"))
        let calendar = try ChainCalendar(identifier: "Europe/Berlin")
        for round in 0..<3_000 {
            let text = round == 0 ? Self.history : Self.mutate(Self.history, &random)
            do {
                let rows = try HistoryCSV.parse(text, currency: .euro, calendar: calendar, memberRules: CardScanRules())
                #expect(rows.allSatisfy { $0.amountMinor != 0 && !$0.receipt.isEmpty && $0.line >= 2 })
            } catch {
                #expect(!error.problems.isEmpty && error.problems.allSatisfy { $0.line >= 1 }, "\(text.debugDescription)")
                #expect(!error.description.contains("4111111111111111"))
            }
        }
        // A 10 kB field and a bank card are refused with their line, never echoed.
        let long = Self.history + "\n2900000777774,OLD,\(String(repeating: "x", count: 10_000)),2026-03-01T10:00:00Z,1"
        let bank = Self.history + "\n4111111111111111,OLD,R9,2026-03-01T10:00:00Z,1"
        for text in [long, bank] {
            let error = #expect(throws: HistoryImportError.self) {
                try HistoryCSV.parse(text, currency: .euro, calendar: calendar, memberRules: CardScanRules())
            }
            #expect(error?.problems.map(\.line) == [5])
            #expect(error?.description.contains("4111111111111111") == false)
        }
    }

    @Test func damagedProgramFilesNeverCrashAndEveryErrorIsBadInput() throws {
        var random = SeededRandom(seed: TestSeed.make("damagedProgramFiles"))
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let example = try String(contentsOf: root.appendingPathComponent("sync/examples/program.yaml"), encoding: .utf8)
        var accepted = 0
        for _ in 0..<1_500 {
            let text = Self.mutate(example, &random)
            do {
                _ = try ProgramFile.parse(text).program(version: 2)
                accepted += 1
            } catch {
                #expect(error.category == .badInput && error.code == "bad_program", "\(error.message)")
            }
        }
        // Damage inside comments or whitespace leaves a valid file: some mutations must pass.
        #expect(accepted > 0)
    }
}
