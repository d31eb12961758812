import Testing

@testable import CardReader

/// libxkbcommon with the system's XKB data turns key codes into the characters each layout types.
@Suite struct XKBDecoderTests {
    // Linux key codes.
    static let shift: UInt16 = 42, altGr: UInt16 = 100, capsLock: UInt16 = 58
    static let digitRow: [UInt16] = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]  // 1...0
    static let keypad: [UInt16] = [79, 80, 81, 75, 76, 77, 71, 72, 73, 82]  // KP1...KP9, KP0

    func type(_ decoder: XKBKeyDecoder, _ keys: [UInt16], shifted: Bool = false) -> String {
        var text = ""
        for key in keys {
            if shifted { _ = decoder.press(Self.shift) }
            text += decoder.press(key) ?? ""
            decoder.release(key)
            if shifted { decoder.release(Self.shift) }
        }
        return text
    }

    @Test func usDigitsAndLetters() throws {
        let us = try XKBKeyDecoder(layout: "us")
        #expect(type(us, Self.digitRow) == "1234567890")
        #expect(type(us, [21, 44]) == "yz")
        #expect(type(us, [21, 44], shifted: true) == "YZ")
        #expect(type(us, [6, 7, 53], shifted: true) == "%^?")
    }

    @Test func germanSwapsYAndZAndHasAltGr() throws {
        let de = try XKBKeyDecoder(layout: "de")
        #expect(type(de, [21, 44]) == "zy")
        #expect(type(de, Self.digitRow) == "1234567890")
        _ = de.press(Self.altGr)
        #expect(de.press(16) == "@")  // AltGr+Q
        de.release(16)
        de.release(Self.altGr)
        #expect(type(de, [16]) == "q")
    }

    @Test(arguments: ["fr", "be"])
    func azertyDigitsNeedShift(_ layout: String) throws {
        let decoder = try XKBKeyDecoder(layout: layout)
        #expect(type(decoder, Self.digitRow, shifted: true) == "1234567890")
        #expect(!type(decoder, Self.digitRow).contains("1"))
        #expect(type(decoder, [16, 30, 17, 44]) == "aqzw")
    }

    @Test func capsLockLocksLettersUntilPressedAgain() throws {
        let us = try XKBKeyDecoder(layout: "us")
        _ = us.press(Self.capsLock)
        us.release(Self.capsLock)
        #expect(type(us, [30, 48]) == "AB")
        _ = us.press(Self.capsLock)
        us.release(Self.capsLock)
        #expect(type(us, [30]) == "a")
    }

    @Test func keypadDigitsWithNumLockOn() throws {
        let us = try XKBKeyDecoder(layout: "us")
        #expect(type(us, Self.keypad) == "1234567890")
        let off = try XKBKeyDecoder(layout: "us", numLockOn: false)
        #expect(type(off, Self.keypad).isEmpty)
    }

    @Test func resetForgetsAHeldShift() throws {
        let us = try XKBKeyDecoder(layout: "us")
        _ = us.press(Self.shift)
        us.reset()
        #expect(type(us, [30]) == "a")
    }

    @Test(arguments: ["", "no-such-layout", "us;rm -rf", "../../etc"])
    func unknownLayoutsAreRefused(_ layout: String) {
        #expect(throws: XKBKeyDecoder.UnknownLayout.self) { try XKBKeyDecoder(layout: layout) }
    }
}

@Suite struct ResynchronisationTests {
    /// After SYN_DROPPED the framer forgets modifiers, then re-applies the ones the kernel says are held.
    @Test func aShiftHeldAcrossDroppedEventsStillCounts() throws {
        var framer = ScanFramer(decoder: try XKBKeyDecoder(layout: "us"))
        _ = framer.decoder.press(29)  // Ctrl, released while events were dropped
        framer.resynchronise(heldKeys: [42, 30])  // Shift and A held; A is not a modifier
        #expect(framer.decoder.press(48) == "B")
        framer.resynchronise(heldKeys: [])
        #expect(framer.decoder.press(48) == "b")
    }
}
