import CUdev

#if canImport(Glibc)
    import Glibc
#endif

/// Input devices from libudev: enumeration at start, then hot-plug from the udev monitor's netlink
/// socket (no polling).
public final class Udev {
    private let handle: OpaquePointer

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init() throws {
        guard let handle = udev_new() else { throw Failure(description: "libudev could not start (udev_new failed)") }
        self.handle = handle
    }

    deinit { udev_unref(handle) }

    /// Every `/dev/input/event*` device present now.
    public func inputDevices() -> [InputDeviceInfo] {
        guard let enumerate = udev_enumerate_new(handle) else { return [] }
        defer { udev_enumerate_unref(enumerate) }
        udev_enumerate_add_match_subsystem(enumerate, "input")
        udev_enumerate_scan_devices(enumerate)
        var devices: [InputDeviceInfo] = []
        var entry = udev_enumerate_get_list_entry(enumerate)
        while let current = entry {
            if let path = udev_list_entry_get_name(current), let device = udev_device_new_from_syspath(handle, path) {
                if let info = Self.info(device) { devices.append(info) }
                udev_device_unref(device)
            }
            entry = udev_list_entry_get_next(current)
        }
        return devices.sorted { $0.devnode < $1.devnode }
    }

    /// Opens a monitor for `input` add/remove events.
    public func monitor() throws -> UdevMonitor {
        try UdevMonitor(udev: handle)
    }

    static func info(_ device: OpaquePointer) -> InputDeviceInfo? {
        guard let node = udev_device_get_devnode(device).map(String.init(cString:)),
            node.hasPrefix("/dev/input/event"),
            let syspath = udev_device_get_syspath(device).map(String.init(cString:))
        else { return nil }
        func property(_ device: OpaquePointer?, _ key: String) -> String? {
            guard let device, let value = udev_device_get_property_value(device, key) else { return nil }
            let text = String(cString: value)
            return text.isEmpty ? nil : text
        }
        let parent = udev_device_get_parent_with_subsystem_devtype(device, "input", nil)
        var vendorProduct: VendorProduct?
        if let vendor = property(device, "ID_VENDOR_ID"), let model = property(device, "ID_MODEL_ID") {
            vendorProduct = VendorProduct("\(vendor):\(model)")
        }
        if vendorProduct == nil, let product = property(parent, "PRODUCT") {
            // "bus/vendor/product/version" in hex, e.g. 3/5f9/2206/110.
            let parts = product.split(separator: "/")
            if parts.count >= 3 { vendorProduct = VendorProduct("\(parts[1]):\(parts[2])") }
        }
        var name = parent.flatMap { udev_device_get_sysattr_value($0, "name") }.map(String.init(cString:))
        if name == nil || name!.isEmpty { name = property(parent, "NAME").map { $0.trimmingCharacters(in: "\"") } }
        let serial = property(device, "ID_SERIAL") ?? property(parent, "ID_SERIAL")
        let portPath = property(device, "ID_PATH") ?? property(parent, "ID_PATH")
        let stableId: String
        if let serial, let vendorProduct, !serial.isEmpty, property(device, "ID_SERIAL_SHORT") != nil || portPath == nil {
            stableId = "usb-\(vendorProduct)-\(serial)"
        } else if let portPath {
            stableId = "path-\(portPath)"
        } else if let serial {
            stableId = "usb-\(serial)"
        } else {
            // The parent's sysfs path without the inputN/eventN numbers, which change on replug.
            let physical = syspath.split(separator: "/").filter { !$0.hasPrefix("input") && !$0.hasPrefix("event") }
            stableId = "sys-" + physical.suffix(3).joined(separator: "/")
        }
        let keyboard = property(device, "ID_INPUT_KEYBOARD") == "1" || property(device, "ID_INPUT_KEY") == "1"
        return InputDeviceInfo(
            syspath: syspath, devnode: node, stableId: stableId, vendorProduct: vendorProduct,
            name: name ?? "unnamed input device", isKeyboardLike: keyboard,
            taggedAsScanner: property(device, "LOYALTY_SCANNER") == "1")
    }
}

/// The udev monitor: a netlink socket that becomes readable when a device is added or removed.
public final class UdevMonitor {
    private let handle: OpaquePointer
    /// Poll this descriptor for readability.
    public let fileDescriptor: Int32

    public enum Action: String, Sendable {
        case add
        case remove
    }

    init(udev: OpaquePointer) throws {
        guard let handle = udev_monitor_new_from_netlink(udev, "udev") else {
            throw Udev.Failure(description: "cannot open the udev monitor (netlink)")
        }
        udev_monitor_filter_add_match_subsystem_devtype(handle, "input", nil)
        guard udev_monitor_enable_receiving(handle) >= 0 else {
            udev_monitor_unref(handle)
            throw Udev.Failure(description: "cannot receive udev events")
        }
        self.handle = handle
        self.fileDescriptor = udev_monitor_get_fd(handle)
    }

    deinit { udev_monitor_unref(handle) }

    /// The next pending add/remove of an event device, or nil when none is pending.
    public func receive() -> (Action, InputDeviceInfo)? {
        while let device = udev_monitor_receive_device(handle) {
            defer { udev_device_unref(device) }
            guard let actionName = udev_device_get_action(device).map(String.init(cString:)),
                let action = Action(rawValue: actionName)
            else { continue }
            if let info = Udev.info(device) { return (action, info) }
        }
        return nil
    }
}

extension String {
    func trimmingCharacters(in character: Character) -> String {
        var slice = Substring(self)
        while slice.first == character { slice.removeFirst() }
        while slice.last == character { slice.removeLast() }
        return String(slice)
    }
}
