/// One evdev event as the kernel delivered it (`struct input_event`), with its timestamp.
public struct KeyEvent: Hashable, Sendable {
    /// Kernel timestamp of the event, in microseconds.
    public var timestampMicroseconds: Int64
    public var type: UInt16
    public var code: UInt16
    public var value: Int32

    public init(timestampMicroseconds: Int64, type: UInt16, code: UInt16, value: Int32) {
        self.timestampMicroseconds = timestampMicroseconds
        self.type = type
        self.code = code
        self.value = value
    }

    public static let typeSynchronisation: UInt16 = 0  // EV_SYN
    public static let typeKey: UInt16 = 1  // EV_KEY
    public static let codeSynDropped: UInt16 = 3  // SYN_DROPPED
    public static let valueRelease: Int32 = 0
    public static let valuePress: Int32 = 1
    public static let valueRepeat: Int32 = 2
}

/// Keys that can end a scan (Linux key codes).
public enum ScanTerminator: String, Sendable, Codable, CaseIterable {
    case enter
    case keypadEnter = "keypad-enter"
    case tab

    public var keyCode: UInt16 {
        switch self {
        case .enter: 28  // KEY_ENTER
        case .keypadEnter: 96  // KEY_KPENTER
        case .tab: 15  // KEY_TAB
        }
    }
}
