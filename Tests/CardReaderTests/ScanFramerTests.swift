import Testing

@testable import CardReader
import LoyaltyCore

/// A decoder with a fixed key → character table, to test framing on its own.
struct TableDecoder: KeyDecoding {
    static let table: [UInt16: String] = [2: "1", 3: "2", 4: "3", 5: "4", 6: "5", 7: "6", 8: "7", 9: "8", 10: "9", 11: "0", 30: "a"]
    mutating func press(_ code: UInt16) -> String? { Self.table[code] }
    mutating func release(_ code: UInt16) {}
    mutating func reset() {}
}

@Suite struct ScanFramerTests {
    static let enter: UInt16 = 28, tab: UInt16 = 15

    /// Press and release of each key, `gap` microseconds apart, starting at `start`.
    static func keys(_ codes: [UInt16], start: Int64 = 1_000_000, gap: Int64 = 3_000) -> [KeyEvent] {
        var events: [KeyEvent] = []
        var time = start
        for code in codes {
            events.append(KeyEvent(timestampMicroseconds: time, type: 1, code: code, value: 1))
            events.append(KeyEvent(timestampMicroseconds: time, type: 0, code: 0, value: 0))
            events.append(KeyEvent(timestampMicroseconds: time + 500, type: 1, code: code, value: 0))
            time += gap
        }
        return events
    }

    static func digits(_ text: String) -> [UInt16] {
        text.map { character in TableDecoder.table.first { $0.value == String(character) }!.key }
    }

    func frame(_ events: [KeyEvent], terminators: [ScanTerminator] = [.enter, .keypadEnter]) -> [FramedScan] {
        var framer = ScanFramer(decoder: TableDecoder(), terminators: terminators)
        return events.compactMap { framer.handle($0) }
    }

    @Test func aScanEndsAtTheTerminator() {
        let scans = frame(Self.keys(Self.digits("2900000777774") + [Self.enter]))
        #expect(scans.map(\.text) == ["2900000777774"])
        #expect(scans.first?.end == .terminator)
    }

    @Test func tabCanBeTheTerminator() {
        #expect(frame(Self.keys(Self.digits("12345") + [Self.tab]), terminators: [.tab]).map(\.text) == ["12345"])
        #expect(frame(Self.keys(Self.digits("12345") + [Self.enter]), terminators: [.tab]).isEmpty)
    }

    @Test func keyRepeatsAreNotCharacters() {
        var events = Self.keys(Self.digits("1234"))
        events.insert(KeyEvent(timestampMicroseconds: 1_000_100, type: 1, code: 2, value: 2), at: 1)
        events.insert(KeyEvent(timestampMicroseconds: 1_000_200, type: 1, code: 2, value: 2), at: 1)
        events += Self.keys([Self.enter], start: 1_012_000)
        #expect(frame(events).map(\.text) == ["1234"])
    }

    @Test func synDroppedDropsTheWholeInterruptedScanNotOnlyItsStart() {
        // "29000" then the kernel's buffer overflowed; "00777774" + Enter is the corrupted scan's tail.
        var events = Self.keys(Self.digits("29000"))
        events.append(KeyEvent(timestampMicroseconds: 1_016_000, type: 0, code: 3, value: 0))
        events += Self.keys(Self.digits("00777774") + [Self.enter], start: 1_017_000)
        // The next scan is reported whole.
        events += Self.keys(Self.digits("2900000777774") + [Self.enter], start: 1_400_000)
        #expect(frame(events).map(\.text) == ["2900000777774"])
    }

    @Test func aScannerWithoutTerminatorRecoversFromADropAtTheNextGap() {
        var framer = ScanFramer(decoder: TableDecoder(), terminators: [])
        var events = Self.keys(Self.digits("1234"))
        events.append(KeyEvent(timestampMicroseconds: 1_013_000, type: 0, code: 3, value: 0))
        events += Self.keys(Self.digits("5678"), start: 1_014_000)  // the tail: never a scan of its own
        events += Self.keys(Self.digits("24680"), start: 1_500_000)  // after the gap: a new scan
        var texts = events.compactMap { framer.handle($0) }.map(\.text)
        if let last = framer.flushAfterIdle() { texts.append(last.text) }
        #expect(texts == ["24680"])
        // A drop at the very end, then silence: the idle flush ends the discard and reports nothing.
        _ = framer.handle(KeyEvent(timestampMicroseconds: 2_000_000, type: 0, code: 3, value: 0))
        #expect(framer.hasPartialScan && framer.flushAfterIdle() == nil && !framer.hasPartialScan)
    }

    @Test func aLongGapEndsTheScanAndAPersonsTypingNeverMakesOne() {
        let slow = Self.keys(Self.digits("2900000777774") + [Self.enter], gap: 150_000)
        #expect(frame(slow).isEmpty)
        // A scanner without a terminator: the gap before the next scan ends the first.
        let twoScans = Self.keys(Self.digits("12345")) + Self.keys(Self.digits("67890"), start: 1_500_000)
        var framer = ScanFramer(decoder: TableDecoder())
        var texts = twoScans.compactMap { framer.handle($0) }.map(\.text)
        if let last = framer.flushAfterIdle() { texts.append(last.text) }
        #expect(texts == ["12345", "67890"])
    }

    @Test func shortBurstsAndOverlongInputAreNotScans() {
        #expect(frame(Self.keys(Self.digits("12") + [Self.enter])).isEmpty)
        let long = Self.keys(Array(repeating: 2, count: ScanFramer<TableDecoder>.maximumLength + 10) + [Self.enter], gap: 100)
        #expect(frame(long).isEmpty)
        // ...and the framer recovers for the next scan.
        var framer = ScanFramer(decoder: TableDecoder())
        for event in long { _ = framer.handle(event) }
        let next = Self.keys(Self.digits("4321") + [Self.enter], start: 9_000_000).compactMap { framer.handle($0) }
        #expect(next.map(\.text) == ["4321"])
    }

    @Test func timingSeparatesScannersFromPeople() {
        let scan = frame(Self.keys(Self.digits("2900000777774") + [Self.enter]))[0]
        #expect(scan.meanKeyGapMicroseconds < 5_000)
        let device = InputDeviceInfo(syspath: "/sys/x", devnode: "/dev/input/event3", stableId: "x", vendorProduct: VendorProduct("1a2b:3c4d"), name: "HID Keyboard", isKeyboardLike: true)
        #expect(DeviceClassifier.role(of: device, configuration: ScannerConfiguration(), observedMeanKeyGapMicroseconds: scan.meanKeyGapMicroseconds) == .likelyScanner)
        #expect(DeviceClassifier.role(of: device, configuration: ScannerConfiguration(), observedMeanKeyGapMicroseconds: 120_000) == .keyboard)
        #expect(DeviceClassifier.role(of: device, configuration: ScannerConfiguration()) == .keyboard)
        #expect(DeviceClassifier.role(of: device, configuration: ScannerConfiguration(allowList: [VendorProduct("1a2b:3c4d")!])) == .configuredScanner)
        var datalogic = device
        datalogic.vendorProduct = VendorProduct("05f9:2206")
        #expect(DeviceClassifier.role(of: datalogic, configuration: ScannerConfiguration()) == .knownScanner)
        #expect(DeviceClassifier.role(of: datalogic, configuration: ScannerConfiguration(useBuiltInScannerList: false)) == .keyboard)
    }
}
