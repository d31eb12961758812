public import LoyaltyCore

#if canImport(Glibc)
    import Glibc
#endif

/// Something the watcher saw.
public enum WatcherEvent {
    case attached(InputDeviceInfo, role: DeviceRole, layout: String, grabbed: Bool)
    case detached(InputDeviceInfo, droppedPartialScan: Bool)
    /// A completed scan and what it is.
    case scan(FramedScan, ScanOutcome, device: InputDeviceInfo)
    /// A device that types at scanner speed but is not configured (only when observing keyboards).
    case likelyScanner(InputDeviceInfo, meanKeyGapMicroseconds: Int64)
    /// A device could not be used; the watcher goes on with the others.
    case problem(String)
}

/// Follows the input devices: enumerates them at start, then the udev monitor for hot-plug; reads
/// (and grabs) the scanners; frames their keys into scans and parses them. Single-threaded: one
/// `poll(2)` over the monitor and every open device.
public final class ScannerWatcher {
    final class Reader {
        let info: InputDeviceInfo
        let device: EvdevDevice
        var framer: ScanFramer<XKBKeyDecoder>
        let role: DeviceRole
        var lastEventUptimeMicroseconds: Int64 = 0
        var endOfStream = false
        init(info: InputDeviceInfo, device: EvdevDevice, framer: ScanFramer<XKBKeyDecoder>, role: DeviceRole) {
            self.info = info
            self.device = device
            self.framer = framer
            self.role = role
        }
    }

    public let configuration: ScannerConfiguration
    /// Also read keyboards (never grabbed) to spot unconfigured scanners by their key timing.
    public let observeKeyboards: Bool
    private let parser: CardScanParser
    private let udev: Udev
    private var readers: [String: Reader] = [:]  // by devnode
    /// Bound on open devices, so a flood of hot-plug events cannot exhaust descriptors.
    public static let maximumDevices = 64

    public init(configuration: ScannerConfiguration, observeKeyboards: Bool = false) throws {
        self.configuration = configuration
        self.observeKeyboards = observeKeyboards
        self.parser = CardScanParser(rules: configuration.rules)
        self.udev = try Udev()
    }

    /// Every input device now, with the role the agent gives it (nothing is opened).
    public func currentDevices() -> [(InputDeviceInfo, DeviceRole)] {
        udev.inputDevices().map { ($0, DeviceClassifier.role(of: $0, configuration: configuration)) }
    }

    /// Runs until `handler` returns false, `deadlineMicroseconds` (monotonic) passes, or `shouldStop`
    /// says so. With a `wake` signal the watcher sleeps until a device or udev event (or the end of a
    /// scan's key gap) and checks `shouldStop` when woken; without one it checks every 100 ms (and on a
    /// signal that interrupts `poll`).
    public func run(
        deadlineMicroseconds: Int64?, wake: WakeSignal? = nil, shouldStop: () -> Bool, handler: (WatcherEvent) -> Bool
    ) throws {
        let monitor = try udev.monitor()
        defer { readers.removeAll() }  // closes every device, releasing grabs
        for info in udev.inputDevices() {
            if let event = attach(info), !handler(event) { return }
        }
        let gapMicroseconds = Int64(configuration.maximumKeyGapMilliseconds) * 1000
        while !shouldStop() {
            let now = Self.uptimeMicroseconds()
            if let deadlineMicroseconds, now >= deadlineMicroseconds { return }
            // Finish scans of readers without a terminator once they fell idle.
            for reader in readers.values where reader.framer.hasPartialScan && now - reader.lastEventUptimeMicroseconds > gapMicroseconds {
                if let scan = reader.framer.flushAfterIdle(), !deliver(scan, from: reader, handler) { return }
            }
            var descriptors = [pollfd(fd: monitor.fileDescriptor, events: Int16(POLLIN), revents: 0)]
            let ordered = readers.values.filter { !$0.endOfStream }
            descriptors += ordered.map { pollfd(fd: $0.device.fileDescriptor, events: Int16(POLLIN), revents: 0) }
            if let wake { descriptors.append(pollfd(fd: wake.descriptor, events: Int16(POLLIN), revents: 0)) }
            // Idle with a wake signal: no timer at all (-1); otherwise a 100 ms check of shouldStop.
            var timeoutMilliseconds: Int64 = wake == nil ? 100 : Int64(Int32.max)
            if ordered.contains(where: { $0.framer.hasPartialScan }) { timeoutMilliseconds = min(timeoutMilliseconds, Int64(configuration.maximumKeyGapMilliseconds)) }
            if let deadlineMicroseconds { timeoutMilliseconds = max(0, min(timeoutMilliseconds, (deadlineMicroseconds - now) / 1000 + 1)) }
            let ready = poll(
                &descriptors, nfds_t(descriptors.count), timeoutMilliseconds >= Int64(Int32.max) ? -1 : Int32(timeoutMilliseconds))
            if ready < 0 {
                if errno == EINTR { continue }
                throw Udev.Failure(description: "poll failed: \(String(cString: strerror(errno)))")
            }
            if ready == 0 { continue }
            if let wake, descriptors.last?.revents ?? 0 != 0 {
                wake.drain()
                continue
            }
            if descriptors[0].revents != 0 {
                while let (action, info) = monitor.receive() {
                    let event: WatcherEvent? = action == .add ? attach(info) : detach(info.devnode)
                    if let event, !handler(event) { return }
                }
            }
            for (index, reader) in ordered.enumerated() where descriptors[index + 1].revents != 0 {
                guard readers[reader.info.devnode] === reader else { continue }
                if !drain(reader, handler) { return }
            }
        }
    }

    /// Reads everything pending on one device. Returns false when the handler asked to stop.
    private func drain(_ reader: Reader, _ handler: (WatcherEvent) -> Bool) -> Bool {
        for _ in 0..<64 {  // bounded: one chatty device cannot starve the others
            switch reader.device.read() {
            case .empty:
                return true
            case .gone:
                if let event = detach(reader.info.devnode) { return handler(event) }
                return true
            case .endOfStream:
                reader.endOfStream = true
                return true
            case .events(let events):
                reader.lastEventUptimeMicroseconds = Self.uptimeMicroseconds()
                for event in events {
                    if let scan = reader.framer.handle(event), !deliver(scan, from: reader, handler) { return false }
                    if event.type == KeyEvent.typeSynchronisation && event.code == KeyEvent.codeSynDropped {
                        // The kernel dropped events: re-read which keys are held rather than guess.
                        reader.framer.resynchronise(heldKeys: reader.device.heldKeys() ?? [])
                    }
                }
            }
        }
        return true
    }

    private func deliver(_ scan: FramedScan, from reader: Reader, _ handler: (WatcherEvent) -> Bool) -> Bool {
        if reader.role.isScanner {
            return handler(.scan(scan, parser.parse(scan.text), device: reader.info))
        }
        // An observed keyboard: only its timing matters, and its text is never kept.
        if scan.keyCount >= configuration.minimumScanLength,
            DeviceClassifier.role(of: reader.info, configuration: configuration, observedMeanKeyGapMicroseconds: scan.meanKeyGapMicroseconds) == .likelyScanner
        {
            return handler(.likelyScanner(reader.info, meanKeyGapMicroseconds: scan.meanKeyGapMicroseconds))
        }
        return true
    }

    private func attach(_ info: InputDeviceInfo) -> WatcherEvent? {
        guard readers[info.devnode] == nil else { return nil }
        let role = DeviceClassifier.role(of: info, configuration: configuration)
        let read = role.isScanner || (observeKeyboards && role == .keyboard)
        guard read else { return nil }
        guard readers.count < Self.maximumDevices else {
            return .problem("more than \(Self.maximumDevices) input devices; \(info.devnode) is not read")
        }
        let layout = configuration.layout(for: info)
        do {
            let decoder = try XKBKeyDecoder(layout: layout)
            let device = try EvdevDevice(devnode: info.devnode, grab: role.isScanner)
            let framer = ScanFramer(
                decoder: decoder, terminators: configuration.terminators,
                maximumKeyGapMilliseconds: configuration.maximumKeyGapMilliseconds, minimumLength: configuration.minimumScanLength)
            readers[info.devnode] = Reader(info: info, device: device, framer: framer, role: role)
            return .attached(info, role: role, layout: layout, grabbed: device.isGrabbed)
        } catch {
            return .problem("\(info.stableId) (\(info.devnode)): \(error)")
        }
    }

    private func detach(_ devnode: String) -> WatcherEvent? {
        guard let reader = readers.removeValue(forKey: devnode) else { return nil }
        return .detached(reader.info, droppedPartialScan: reader.framer.hasPartialScan)
    }

    static func uptimeMicroseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }
}
