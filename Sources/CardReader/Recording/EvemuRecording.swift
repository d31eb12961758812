public import LoyaltyCore

/// A key-event recording in evemu's text format (`evemu-record`), as `device/fixtures/*.evemu` hold:
/// one event per line, `E: SECONDS TYPE CODE VALUE` (type, code, value in hex); other lines are
/// ignored. Replaying it through ``ScanFramer`` and the XKB decoder gives the scans a scanner typed,
/// without udev or evdev (the demo, when umockdev is not installed).
public struct EvemuRecording: Sendable {
    /// At most this many events are read: a recording is a few scans, not a stream.
    public static let maximumEvents = 100_000

    public let events: [KeyEvent]

    /// - Throws: ``LoyaltyError`` (bad input) naming the line that is not an event.
    public init(text: String) throws(LoyaltyError) {
        var events: [KeyEvent] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where line.hasPrefix("E: ") {
            let fields = line.dropFirst(3).split(separator: " ")
            guard fields.count == 4, let seconds = Double(fields[0]), seconds >= 0, seconds < 1e9,
                let type = UInt16(fields[1], radix: 16), let code = UInt16(fields[2], radix: 16),
                let value = Int32(fields[3], radix: 16)
            else {
                throw .badInput("bad_recording", "line \(index + 1) is not an evemu event `E: SECONDS TYPE CODE VALUE`")
            }
            guard events.count < Self.maximumEvents else {
                throw .badInput("bad_recording", "a recording holds at most \(Self.maximumEvents) events")
            }
            events.append(
                KeyEvent(
                    timestampMicroseconds: Int64((seconds * 1_000_000).rounded()), type: type, code: code, value: value)
            )
        }
        self.events = events
    }

    /// The scans in the recording, typed in `layout`, each parsed by `rules`.
    public func scans(layout: String, rules: CardScanRules) throws -> [ScanOutcome] {
        var framer = ScanFramer(decoder: try XKBKeyDecoder(layout: layout))
        let parser = CardScanParser(rules: rules)
        var outcomes: [ScanOutcome] = []
        for event in events {
            if let scan = framer.handle(event) { outcomes.append(parser.parse(scan.text)) }
        }
        if let scan = framer.flushAfterIdle() { outcomes.append(parser.parse(scan.text)) }
        return outcomes
    }
}
