import CEvdev

#if canImport(Glibc)
    import Glibc
#endif

/// An open `/dev/input/event*` node: reads `struct input_event`s, optionally grabbed so its
/// keystrokes reach no other program (the grab is released when the device is closed).
public final class EvdevDevice {
    public let devnode: String
    public let fileDescriptor: Int32
    public private(set) var isGrabbed = false

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public enum ReadResult {
        case events([KeyEvent])
        /// Nothing to read right now.
        case empty
        /// The device is gone (unplugged).
        case gone
        /// The node reports end of file: a real evdev node never does, a replayed recording does
        /// when it ends. Stop reading it and let udev say when it is removed.
        case endOfStream
    }

    public init(devnode: String, grab: Bool) throws {
        let descriptor = open(devnode, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            throw Failure(
                description: "cannot open \(devnode): \(reason); add the agent's user to the group the udev rule in device/ sets (or run as root)")
        }
        self.devnode = devnode
        self.fileDescriptor = descriptor
        if grab {
            guard cevdev_grab(descriptor, 1) == 0 else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw Failure(description: "cannot grab \(devnode): \(reason) (another program holds it?)")
            }
            isGrabbed = true
        }
    }

    /// The keys the kernel says are down now (`EVIOCGKEY`), or nil when the state cannot be read
    /// (umockdev does not fake this ioctl; callers then assume no key is held).
    public func heldKeys() -> Set<UInt16>? {
        var bits = [UInt8](repeating: 0, count: 96)  // KEY_MAX (0x2ff) / 8 + 1
        guard cevdev_key_state(fileDescriptor, &bits, Int32(bits.count)) >= 0 else { return nil }
        var keys = Set<UInt16>()
        for (index, byte) in bits.enumerated() where byte != 0 {
            for bit in 0..<8 where byte & (1 << bit) != 0 { keys.insert(UInt16(index * 8 + bit)) }
        }
        return keys
    }

    deinit {
        if isGrabbed { _ = cevdev_grab(fileDescriptor, 0) }
        close(fileDescriptor)
    }

    /// Reads what is pending, at most 64 events per call.
    public func read() -> ReadResult {
        let capacity = 64
        let size = MemoryLayout<input_event>.stride
        var buffer = [input_event](repeating: input_event(), count: capacity)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fileDescriptor, $0.baseAddress, capacity * size) }
        if count < 0 {
            switch errno {
            case EAGAIN, EINTR: return .empty
            default: return .gone  // ENODEV after unplug, or any other failure of the node
            }
        }
        if count == 0 { return .endOfStream }
        let events = buffer.prefix(count / size).map { event in
            var event = event
            return KeyEvent(
                timestampMicroseconds: cevdev_event_seconds(&event) * 1_000_000 + cevdev_event_microseconds(&event),
                type: event.type, code: event.code, value: event.value)
        }
        return .events(events)
    }
}
