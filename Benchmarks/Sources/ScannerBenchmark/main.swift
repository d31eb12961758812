// Scanner path throughput and latency, in process:
//  1. key events/s through xkb decoding + scan framing + card parsing, beside a raw libxkbcommon
//     loop doing only the per-key xkb calls for the same events (the floor any xkb decoder pays);
//  2. time from the terminator key event to a parsed card and its member looked up in a real
//     SQLite ledger, p50/p99.
//
//   swift run -c release --package-path Benchmarks scanner-benchmark [scans=40000]
import CXKBRaw
import CardReader
import Foundation
import LedgerStore
import LoyaltyCore

let scanCount = CommandLine.arguments.dropFirst().compactMap { Int($0) }.first ?? 40_000
let clock = ContinuousClock()
func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

// US layout key codes for digits; 28 is Enter.
let digitKeys: [Character: UInt16] = ["1": 2, "2": 3, "3": 4, "4": 5, "5": 6, "6": 7, "7": 8, "8": 9, "9": 10, "0": 11]
let memberCards = (0..<1_000).map { index -> String in
    let body = "290000\(String(format: "%06d", index))"
    let sum = body.reversed().enumerated().reduce(0) { $0 + Int(String($1.element))! * ($1.offset % 2 == 0 ? 3 : 1) }
    return body + String((10 - sum % 10) % 10)
}
var events: [KeyEvent] = []
var terminatorIndices: [Int] = []
var time: Int64 = 1_000_000
for scan in 0..<scanCount {
    for character in memberCards[scan % memberCards.count] + "\n" {
        let code = character == "\n" ? 28 : digitKeys[character]!
        time += 3_000
        if code == 28 { terminatorIndices.append(events.count) }
        events.append(KeyEvent(timestampMicroseconds: time, type: 1, code: code, value: 1))
        events.append(KeyEvent(timestampMicroseconds: time, type: 0, code: 0, value: 0))
        events.append(KeyEvent(timestampMicroseconds: time + 500, type: 1, code: code, value: 0))
        events.append(KeyEvent(timestampMicroseconds: time + 500, type: 0, code: 0, value: 0))
    }
    time += 300_000
}

// 1. Throughput: ours (decode + frame + parse) vs the raw xkb calls alone.
var framer = ScanFramer(decoder: try XKBKeyDecoder(layout: "us"))
let parser = CardScanParser()
var members = 0
let ours = clock.measure {
    for event in events {
        if let scan = framer.handle(event), case .member = parser.parse(scan.text) { members += 1 }
    }
}
precondition(members == scanCount, "expected \(scanCount) member scans, got \(members)")

let context = xkb_context_new(XKB_CONTEXT_NO_ENVIRONMENT_NAMES)!
var names = xkb_rule_names(rules: strdup("evdev"), model: strdup("pc105"), layout: strdup("us"), variant: strdup(""), options: nil)
let keymap = xkb_keymap_new_from_names(context, &names, XKB_KEYMAP_COMPILE_NO_FLAGS)!
let state = xkb_state_new(keymap)!
var produced = 0
var buffer = [CChar](repeating: 0, count: 16)
let raw = clock.measure {
    for event in events where event.type == 1 {
        let keycode = xkb_keycode_t(event.code) + 8
        if event.value == 1 {
            produced += Int(xkb_state_key_get_utf8(state, keycode, &buffer, 16))
            xkb_state_update_key(state, keycode, XKB_KEY_DOWN)
        } else {
            xkb_state_update_key(state, keycode, XKB_KEY_UP)
        }
    }
}
precondition(produced > 0)
let oursRate = Double(events.count) / seconds(ours)
let rawRate = Double(events.count) / seconds(raw)
print("scanner-benchmark: \(events.count) key events (\(scanCount) EAN-13 scans, US layout)")
print(String(format: "decode + frame + parse: ours %.2f M events/s   raw xkb calls only %.2f M events/s   ours/raw throughput %.2f×   goal: ≥ 1 M events/s",
             oursRate / 1e6, rawRate / 1e6, oursRate / rawRate))

// 2. Latency from the terminator event to a member identified in the ledger.
let folder = FileManager.default.currentDirectoryPath + "/.build/benchmark-ledgers"
try? FileManager.default.removeItem(atPath: folder)
try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
let ledger = try LedgerDatabase(path: folder + "/scanner.db")
for card in memberCards { _ = try ledger.enroll(card: CardNumber(card), name: nil, birthday: nil) }
var latencyFramer = ScanFramer(decoder: try XKBKeyDecoder(layout: "us"))
var samples: [Double] = []
samples.reserveCapacity(scanCount)
var next = terminatorIndices.makeIterator()
var terminator = next.next()
for (index, event) in events.enumerated() {
    if index == terminator {
        let start = clock.now
        guard let scan = latencyFramer.handle(event), case .member(let card, _) = parser.parse(scan.text),
            try ledger.lookup(card: card) != nil
        else { fatalError("a scan was not identified") }
        samples.append(seconds(clock.now - start) * 1e6)
        terminator = next.next()
    } else {
        _ = latencyFramer.handle(event)
    }
}
samples.sort()
let sortedSamples = samples
func percentile(_ p: Double) -> Double { sortedSamples[min(sortedSamples.count - 1, Int(Double(sortedSamples.count) * p))] }
print(String(format: "terminator key → card parsed → member looked up (SQLite, 1,000 members): p50 %.1f µs   p99 %.1f µs   max %.1f µs   goal: p99 ≤ 1000 µs",
             percentile(0.50), percentile(0.99), samples.last!))
