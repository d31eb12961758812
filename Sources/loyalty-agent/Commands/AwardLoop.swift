import Foundation
import ArgumentParser
import LedgerStore
import LoyaltyCore

/// Test support for the crash test: awards receipts in a loop and prints each receipt only after
/// its commit returned, so a test can kill the process at any moment and check every printed
/// receipt is in the ledger exactly once.
struct AwardLoop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "award-loop", abstract: "Award receipts PREFIX-FROM, PREFIX-FROM+1, ... (crash testing).",
        shouldDisplay: false)

    @Argument var card: String
    @Option var prefix: String = "loop"
    @Option var from: Int = 1
    @Option var count: Int = 1_000_000
    @Option var amount: String = "1.00"
    /// `off` shows what the power-loss test catches: commits that never reached the disk.
    @Option(help: ArgumentHelp("SQLite synchronous mode for this run: full (the agent's) or off.", visibility: .hidden))
    var synchronous: String = "full"
    /// For the daemon benchmark: each line also gives the award's duration, `RECEIPT MICROSECONDS`.
    @Flag(help: ArgumentHelp("Print each award's duration in microseconds after its receipt.", visibility: .hidden))
    var timings = false
    /// For the daemon benchmark: a pause between awards, as between two customers (and between two
    /// requests to the API), so both are measured from the same idle start.
    @Option(help: ArgumentHelp("Pause this long between awards.", visibility: .hidden))
    var pauseMicroseconds: Int = 0
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let ledger = try global.openLedger()
        switch synchronous {
        case "full": break
        case "off": try ledger.lowerDurabilityForCrashTesting()
        default: throw LoyaltyError.badInput("bad_option", "--synchronous takes full or off")
        }
        let card = try global.memberCard(card)
        if (try? ledger.member(card: card)) == nil {
            _ = try? ledger.enroll(card: card, name: nil, birthday: nil)
        }
        let amount = try Money(parsing: amount, currency: ledger.program().currency)
        for index in from..<(from + count) {
            let receipt = try ReceiptReference("\(prefix)-\(index)")
            let start = ContinuousClock.now
            _ = try ledger.award(card: card, amount: amount, receipt: receipt)
            let elapsed = ContinuousClock.now - start
            let microseconds = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
            Printer.out(timings ? "\(receipt.value) \(microseconds)" : receipt.value)
            if pauseMicroseconds > 0 { usleep(UInt32(min(pauseMicroseconds, 10_000_000))) }
        }
    }
}
