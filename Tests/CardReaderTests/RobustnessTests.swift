import TestSupport
import Testing

@testable import CardReader
import LoyaltyCore

/// Invariant 5 for the scanner path: random key-event streams through the real xkb decoder and the
/// framer, and random text into the card parser, never crash, and never produce an oversize scan
/// or a member card that is a payment card.
@Suite struct RobustnessTests {
    @Test(arguments: ["us", "de", "fr", "be"])
    func randomKeyEventStreamsNeverCrashTheDecoderOrFramer(_ layout: String) throws {
        // A stable seed per layout (hashValue changes from run to run), printed and replayable.
        let layoutSeed = layout.utf8.reduce(UInt64(0xC0FFEE)) { $0 &* 31 &+ UInt64($1) }
        var random = SeededRandom(seed: TestSeed.make("key events \(layout)", fallback: layoutSeed))
        var framer = ScanFramer(decoder: try XKBKeyDecoder(layout: layout), terminators: [.enter, .tab, .keypadEnter])
        let parser = CardScanParser()
        var time: Int64 = 0
        var scans = 0
        for _ in 0..<100_000 {
            // Mostly scanner-fast keys, some long gaps; timestamps may even go back.
            time += Int.random(in: 0..<10, using: &random) == 0
                ? Int64.random(in: -1_000...200_000, using: &random) : Int64.random(in: 0...5_000, using: &random)
            let event = KeyEvent(
                timestampMicroseconds: time,
                type: [0, 1, 1, 1, 1, 2, 4].randomElement(using: &random)!,
                code: Int.random(in: 0..<20, using: &random) > 0 ? UInt16.random(in: 0...120, using: &random) : UInt16.random(in: 0...UInt16.max, using: &random),
                value: [0, 1, 1, 2, -1, 7].randomElement(using: &random)!)
            if let scan = framer.handle(event) {
                scans += 1
                #expect(scan.text.unicodeScalars.count <= ScanFramer<XKBKeyDecoder>.maximumLength)
                if case .member(let card, _) = parser.parse(scan.text) {
                    #expect(!PaymentCardDetector.isPaymentCard(card.value))
                }
            }
        }
        #expect(scans > 0, "the random stream should complete some scans")
    }

    @Test func millionsOfRandomStringsNeverCrashTheParser() {
        var random = SeededRandom(seed: TestSeed.make("random text", fallback: 99))
        let parser = CardScanParser(rules: CardScanRules(prefix: "%", suffix: "?", memberRanges: []))
        let alphabet = Array("0123456789%;^=?BAZ/ -\u{0}\u{7F}é日") + ["\r", "\n"]
        var members = 0
        for _ in 0..<1_000_000 {
            let length = Int.random(in: 0...40, using: &random)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &random)! })
            switch parser.parse(text) {
            case .member(let card, _):
                members += 1
                #expect(!PaymentCardDetector.isPaymentCard(card.value))
            case .rejected: break
            }
        }
        #expect(members > 0)
    }

    @Test func randomBytesNeverCrashTheParser() {
        var random = SeededRandom(seed: TestSeed.make("random bytes", fallback: 5))
        for _ in 0..<200_000 {
            let bytes = (0..<Int.random(in: 0...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            _ = CardScanParser().parse(String(decoding: bytes, as: UTF8.self))
        }
    }
}
