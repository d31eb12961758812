/// A completed scan: the text a scanner typed between two terminators (or before a long gap).
public struct FramedScan: Hashable, Sendable {
    public enum End: String, Sendable, Codable {
        case terminator
        case gap
    }

    public var text: String
    public var keyCount: Int
    /// Kernel time from the first key to the end of the scan.
    public var durationMicroseconds: Int64
    /// Mean gap between key presses, for telling scanners from people.
    public var meanKeyGapMicroseconds: Int64
    public var end: End
}

/// Frames one device's key events into scans. Pure: the decoder is the only state besides the
/// partial scan, and time is the kernel's event timestamps.
///
/// Key repeats are not characters; `SYN_DROPPED` drops the whole interrupted scan — the keys before
/// it and the keys after it up to the scan's terminator or the next inter-key gap, which belong to a
/// corrupted scan and must never be reported as a scan of their own — and resets the key state;
/// a gap between key presses longer than ``maximumKeyGapMicroseconds`` ends the scan; scans shorter
/// than ``minimumLength`` (a person's stray key) are dropped.
public struct ScanFramer<Decoder: KeyDecoding> {
    public var decoder: Decoder
    public var terminators: Set<UInt16>
    public var maximumKeyGapMicroseconds: Int64
    public var minimumLength: Int
    /// A scan longer than this is not a card: it is dropped rather than grown without bound.
    public static var maximumLength: Int { 512 }

    private var buffer = ""
    private var keyCount = 0
    private var firstPressMicroseconds: Int64 = 0
    private var lastPressMicroseconds: Int64?
    private var overflowed = false
    /// After `SYN_DROPPED`: the rest of the interrupted scan is being swallowed.
    private var discardingInterruptedScan = false

    public init(decoder: Decoder, terminators: [ScanTerminator] = [.enter, .keypadEnter], maximumKeyGapMilliseconds: Int = 50, minimumLength: Int = 4) {
        precondition(maximumKeyGapMilliseconds > 0 && minimumLength > 0)
        self.decoder = decoder
        self.terminators = Set(terminators.map(\.keyCode))
        self.maximumKeyGapMicroseconds = Int64(maximumKeyGapMilliseconds) * 1000
        self.minimumLength = minimumLength
    }

    /// Whether a partial scan is waiting for more keys (or the rest of an interrupted one for its end).
    public var hasPartialScan: Bool { !buffer.isEmpty || discardingInterruptedScan }

    /// Feeds one event; returns the scan it completed, if any.
    public mutating func handle(_ event: KeyEvent) -> FramedScan? {
        if event.type == KeyEvent.typeSynchronisation && event.code == KeyEvent.codeSynDropped {
            discardPartialScan()
            decoder.reset()
            discardingInterruptedScan = true
            lastPressMicroseconds = event.timestampMicroseconds
            return nil
        }
        guard event.type == KeyEvent.typeKey else { return nil }
        switch event.value {
        case KeyEvent.valueRelease:
            decoder.release(event.code)
            return nil
        case KeyEvent.valuePress:
            break
        default:
            return nil  // repeat (2) or anything unexpected: never a character
        }
        if discardingInterruptedScan {
            let afterGap = lastPressMicroseconds.map { event.timestampMicroseconds - $0 > maximumKeyGapMicroseconds } ?? true
            if afterGap {
                // The interrupted scan ended long ago: this key starts a new one.
                discardingInterruptedScan = false
                lastPressMicroseconds = nil
            } else {
                // Still the interrupted scan: keep the modifier state, report nothing, end at its terminator.
                if terminators.contains(event.code) {
                    discardingInterruptedScan = false
                    lastPressMicroseconds = nil
                } else {
                    _ = decoder.press(event.code)
                    lastPressMicroseconds = event.timestampMicroseconds
                }
                return nil
            }
        }
        var completed: FramedScan?
        if let last = lastPressMicroseconds, event.timestampMicroseconds - last > maximumKeyGapMicroseconds {
            completed = finish(.gap)
        }
        if terminators.contains(event.code) {
            if buffer.isEmpty { lastPressMicroseconds = nil }
            return finish(.terminator, at: event.timestampMicroseconds) ?? completed
        }
        let text = decoder.press(event.code)
        if buffer.isEmpty && keyCount == 0 { firstPressMicroseconds = event.timestampMicroseconds }
        lastPressMicroseconds = event.timestampMicroseconds
        if let text {
            for scalar in text.unicodeScalars where scalar.properties.generalCategory != .control {
                if buffer.unicodeScalars.count >= Self.maximumLength {
                    overflowed = true
                } else {
                    buffer.unicodeScalars.append(scalar)
                }
            }
            keyCount += 1
        }
        return completed
    }

    /// Ends a partial scan when no key came for longer than the gap bound (a scanner without a
    /// terminator). Called by the reader when its wait timed out.
    public mutating func flushAfterIdle() -> FramedScan? {
        if discardingInterruptedScan {
            discardingInterruptedScan = false
            lastPressMicroseconds = nil
            return nil
        }
        return finish(.gap)
    }

    /// After `SYN_DROPPED`: forgets the modifier state and re-applies the keys the kernel says are
    /// held now (re-read with `EVIOCGKEY`), so a Shift held across the overflow still counts.
    public mutating func resynchronise(heldKeys: Set<UInt16>) {
        decoder.reset()
        for key in heldKeys.sorted() where Self.modifierKeys.contains(key) {
            _ = decoder.press(key)
        }
    }

    /// Shift, Ctrl, Alt/AltGr, Meta (Linux key codes): the keys whose held state changes text.
    static var modifierKeys: Set<UInt16> { [42, 54, 29, 97, 56, 100, 125, 126] }

    /// Drops the partial scan (unplug, `SYN_DROPPED`).
    public mutating func discardPartialScan() {
        buffer = ""
        keyCount = 0
        lastPressMicroseconds = nil
        overflowed = false
    }

    private mutating func finish(_ end: FramedScan.End, at endMicroseconds: Int64? = nil) -> FramedScan? {
        defer { discardPartialScan() }
        guard buffer.count >= minimumLength, !overflowed else { return nil }
        let last = endMicroseconds ?? lastPressMicroseconds ?? firstPressMicroseconds
        let duration = max(0, last - firstPressMicroseconds)
        return FramedScan(
            text: buffer, keyCount: keyCount, durationMicroseconds: duration,
            meanKeyGapMicroseconds: keyCount > 1 ? duration / Int64(keyCount) : 0, end: end)
    }
}
