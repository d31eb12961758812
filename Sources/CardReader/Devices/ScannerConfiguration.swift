public import LoyaltyCore

/// Which devices are member-card scanners and how to read them.
public struct ScannerConfiguration: Sendable {
    /// Devices configured as scanners by `VID:PID`.
    public var allowList: [VendorProduct]
    /// Devices configured as scanners by a case-insensitive substring of their name.
    public var namePatterns: [String]
    /// Keyboard layout per configured device; others use ``defaultLayout``.
    public var layouts: [VendorProduct: String]
    public var defaultLayout: String
    public var terminators: [ScanTerminator]
    /// Longest gap between two keys of one scan; a person types far slower.
    public var maximumKeyGapMilliseconds: Int
    public var minimumScanLength: Int
    public var rules: CardScanRules
    /// Also read (and grab) devices of known scanner makers that are not configured.
    public var useBuiltInScannerList: Bool

    public init(
        allowList: [VendorProduct] = [], namePatterns: [String] = [], layouts: [VendorProduct: String] = [:],
        defaultLayout: String = "us", terminators: [ScanTerminator] = [.enter, .keypadEnter],
        maximumKeyGapMilliseconds: Int = 50, minimumScanLength: Int = 4, rules: CardScanRules = CardScanRules(),
        useBuiltInScannerList: Bool = true
    ) {
        self.allowList = allowList
        self.namePatterns = namePatterns
        self.layouts = layouts
        self.defaultLayout = defaultLayout
        self.terminators = terminators
        self.maximumKeyGapMilliseconds = maximumKeyGapMilliseconds
        self.minimumScanLength = minimumScanLength
        self.rules = rules
        self.useBuiltInScannerList = useBuiltInScannerList
    }

    public func layout(for device: InputDeviceInfo) -> String {
        device.vendorProduct.flatMap { layouts[$0] } ?? defaultLayout
    }
}

/// What a device is to the agent.
public enum DeviceRole: String, Sendable, Codable {
    /// Configured (allow-list, name pattern, or tagged by the udev rule): read and grabbed.
    case configuredScanner = "configured-scanner"
    /// A known scanner maker's reader: read and grabbed.
    case knownScanner = "known-scanner"
    /// Types at scanner speed but is not configured: reported, never grabbed.
    case likelyScanner = "likely-scanner"
    /// A person's keyboard: never grabbed, never read by `scan`.
    case keyboard
    /// Not a keyboard-like device (mouse, power button, ...).
    case other

    public var isScanner: Bool { self == .configuredScanner || self == .knownScanner }
}

/// Decides each device's role from configuration, built-in knowledge and observed key timing. Pure.
public enum DeviceClassifier {
    /// USB vendor ids of barcode, magstripe and RFID reader makers whose keyboard-emulation
    /// readers are never a person's keyboard.
    public static let knownScannerVendors: [UInt16: String] = [
        0x05F9: "Datalogic", 0x0C2E: "Honeywell (Metrologic)", 0x0536: "Hand Held Products", 0x05E0: "Zebra (Symbol)",
        0x1EAB: "Newland", 0x065A: "Opticon", 0x0801: "MagTek", 0x0ACD: "ID TECH", 0x0C27: "RF IDeas",
        0x1504: "Unitech", 0x2DD6: "Zebex",
    ]
    static let scannerNameWords = ["barcode", "bar code", "scanner", "magstripe", "magnetic stripe", "card reader", "rfid", "imager"]

    public static func role(of device: InputDeviceInfo, configuration: ScannerConfiguration, observedMeanKeyGapMicroseconds: Int64? = nil) -> DeviceRole {
        let name = device.name.lowercased()
        if let vendorProduct = device.vendorProduct, configuration.allowList.contains(vendorProduct) { return .configuredScanner }
        if device.taggedAsScanner { return .configuredScanner }
        if configuration.namePatterns.contains(where: { !$0.isEmpty && name.contains($0.lowercased()) }) { return .configuredScanner }
        guard device.isKeyboardLike else { return .other }
        if configuration.useBuiltInScannerList {
            // These makers build readers only, which often call themselves "USB Keyboard".
            if let vendor = device.vendorProduct?.vendor, knownScannerVendors[vendor] != nil { return .knownScanner }
            if scannerNameWords.contains(where: name.contains), !name.contains("keyboard") { return .knownScanner }
        }
        if let gap = observedMeanKeyGapMicroseconds, gap < Int64(configuration.maximumKeyGapMilliseconds) * 1000 / 2 {
            return .likelyScanner
        }
        return .keyboard
    }
}
