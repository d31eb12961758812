import ArgumentParser
import CardReader
import Foundation
import LoyaltyCore

struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List input devices: stable id, VID:PID, name, whether the agent treats it as a scanner.",
        discussion: "With --listen, keyboards are watched (never grabbed) for that many seconds; one that types at scanner speed is reported as a likely scanner.")

    @OptionGroup var scanner: ScannerOptions
    @Option(help: ArgumentHelp("Watch keyboards this many seconds for scanner-speed typing.", valueName: "seconds"))
    var listen: Double = 0
    @Flag(help: "Print exactly one JSON object.") var json = false

    struct Row: Encodable {
        var stableId: String
        var devnode: String
        var vendorProduct: String?
        var name: String
        var role: DeviceRole
        var layout: String?
        var grabbed: Bool
    }

    func run() throws {
        let configuration = try scanner.configuration()
        guard (0...600).contains(listen) else { throw LoyaltyError.badInput("bad_option", "--listen takes 0 to 600 seconds") }
        let watcher = try ScannerWatcher(configuration: configuration, observeKeyboards: listen > 0)
        var roles: [String: DeviceRole] = [:]
        let devices = watcher.currentDevices()
        for (info, role) in devices { roles[info.devnode] = role }
        if listen > 0 {
            installStopSignalHandlers()
            let deadline = ScannerWatcherClock.now() + Int64(listen * 1_000_000)
            try watcher.run(deadlineMicroseconds: deadline, shouldStop: { stopRequested.load(ordering: .relaxed) }) { event in
                if case .likelyScanner(let info, _) = event { roles[info.devnode] = .likelyScanner }
                return true
            }
        }
        let rows = devices.map { info, _ in
            let role = roles[info.devnode] ?? .other
            return Row(
                stableId: info.stableId, devnode: info.devnode, vendorProduct: info.vendorProduct?.description, name: info.name,
                role: role, layout: role == .other ? nil : configuration.layout(for: info), grabbed: role.isScanner)
        }
        if json {
            struct Output: Encodable { var devices: [Row] }
            Printer.out(Printer.json(Output(devices: rows)))
            return
        }
        if rows.isEmpty {
            Printer.out("No input devices found. Is the scanner plugged in? (Check `ls /dev/input/` and the udev rule in device/.)")
            return
        }
        for row in rows {
            Printer.out(
                "\(row.devnode)  \(row.vendorProduct ?? "----:----")  \(row.role.rawValue)\(row.grabbed ? " (grabbed when scanning)" : "")  layout \(row.layout ?? "-")\n    \(row.name) — id \(row.stableId)")
        }
    }
}

enum ScannerWatcherClock {
    static func now() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }
}
