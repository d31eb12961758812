import ArgumentParser
import CardReader
import Foundation
import LedgerStore
import LoyaltyCore
import PointOfSaleAPI

struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Watch the scanners and print each completed scan as one JSON line.",
        discussion: """
            Scanners are the configured ones (--scanner, --scanner-name) plus readers of known scanner makers; they are \
            grabbed, so their keystrokes never reach the POS application. A person's keyboard is never read. \
            Device changes are logged on stderr. With an existing ledger (--db), a member scan also shows balance and tier.
            """)

    @OptionGroup var scanner: ScannerOptions
    @Option(help: "Exit after this many member scans.") var count: Int?
    @Option(help: ArgumentHelp("Exit after this many seconds.", valueName: "seconds")) var timeout: Double?
    @Option(help: ArgumentHelp("The ledger file to look members up in (default as for the other commands; not created).", valueName: "path"))
    var db: String?
    @Flag(help: "Accepted for symmetry: scan output is always JSON lines.") var json = false

    func run() throws {
        let ledger = try openExistingLedger()
        if let ledger { MemberRanges.adopt(from: ledger) }
        let configuration = try scanner.configuration()
        if let count, count < 1 { throw LoyaltyError.badInput("bad_option", "--count takes a number of scans from 1") }
        if let timeout, !(timeout > 0 && timeout <= 86_400 * 365) { throw LoyaltyError.badInput("bad_option", "--timeout takes seconds above 0") }
        let watcher = try ScannerWatcher(configuration: configuration)
        installStopSignalHandlers()
        var members = 0
        let deadline = timeout.map { ScannerWatcherClock.now() + Int64($0 * 1_000_000) }
        try watcher.run(deadlineMicroseconds: deadline, shouldStop: { stopRequested.load(ordering: .relaxed) }) { event in
            switch event {
            case .attached(let info, let role, let layout, let grabbed):
                Printer.err("attached \(info.stableId) \(info.devnode) \(info.vendorProduct?.description ?? "-") \(role.rawValue) layout \(layout)\(grabbed ? " grabbed" : "")")
            case .detached(let info, let dropped):
                Printer.err("detached \(info.stableId) \(info.devnode)\(dropped ? " (partial scan dropped)" : "")")
            case .likelyScanner(let info, let gap):
                Printer.err("likely scanner (not configured, not grabbed): \(info.stableId) \(info.vendorProduct?.description ?? "-") mean key gap \(gap) µs")
            case .problem(let message):
                Printer.err("problem: \(message)")
            case .scan(_, let outcome, let device):
                Printer.out(Self.line(outcome, device: device, ledger: ledger).json)
                if case .member = outcome {
                    members += 1
                    if let count, members >= count { return false }
                }
            }
            return true
        }
    }

    /// What a scan says (the same for `scan` and the daemon's scan stream); a ledger that cannot be
    /// read is said on stderr and the scan still shown.
    static func line(_ outcome: ScanOutcome, device: InputDeviceInfo, ledger: LedgerDatabase?) -> ScanEvent {
        ScanEvent.describing(outcome, device: device.stableId, ledger: ledger) { error in
            Printer.err("problem: ledger lookup failed: \(error)")
        }
    }

    private func openExistingLedger() throws -> LedgerDatabase? {
        var options = GlobalOptions()
        options.db = db
        let path = options.databasePath
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try LedgerDatabase(path: path)
    }
}
