/// A USB vendor:product pair, written `05f9:2206`.
public struct VendorProduct: Hashable, Sendable, Codable, CustomStringConvertible {
    public var vendor: UInt16
    public var product: UInt16

    public init(vendor: UInt16, product: UInt16) {
        self.vendor = vendor
        self.product = product
    }

    /// Parses `VID:PID` in hex, e.g. `05f9:2206`.
    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts.allSatisfy({ (1...4).contains($0.count) }),
            let vendor = UInt16(parts[0], radix: 16), let product = UInt16(parts[1], radix: 16)
        else { return nil }
        self.init(vendor: vendor, product: product)
    }

    public var description: String {
        func hex(_ value: UInt16) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 4 - digits.count) + digits
        }
        return "\(hex(vendor)):\(hex(product))"
    }
}

/// An input device as udev describes it.
public struct InputDeviceInfo: Hashable, Sendable {
    /// `/sys/devices/...`: changes with the USB port and event number.
    public var syspath: String
    /// `/dev/input/eventN`: the event number changes on replug.
    public var devnode: String
    /// Stable across replug: the USB serial when the device has one, else its USB port path.
    public var stableId: String
    public var vendorProduct: VendorProduct?
    public var name: String
    /// udev says it has keys like a keyboard (scanners in keyboard emulation do).
    public var isKeyboardLike: Bool
    /// The udev rule in device/ tagged it `LOYALTY_SCANNER=1`.
    public var taggedAsScanner: Bool

    public init(
        syspath: String, devnode: String, stableId: String, vendorProduct: VendorProduct?, name: String, isKeyboardLike: Bool,
        taggedAsScanner: Bool = false
    ) {
        self.taggedAsScanner = taggedAsScanner
        self.syspath = syspath
        self.devnode = devnode
        self.stableId = stableId
        self.vendorProduct = vendorProduct
        self.name = name
        self.isKeyboardLike = isKeyboardLike
    }
}
