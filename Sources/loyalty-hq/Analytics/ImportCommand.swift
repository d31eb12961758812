import ArgumentParser
import Foundation
import HeadOffice
import LoyaltyCore

/// `loyalty-hq import FILE.csv`: a chain moving from another loyalty system keeps its members' history.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import sales history from a CSV file (card,store,receipt,time,amount) for the reports.",
        discussion: """
            One sale per line; a negative amount refunds that receipt. Times are ISO 8601 (with Z or an offset, \
            or local time in the chain's time zone); amounts are decimals in the chain's currency. Every line \
            is checked first and all problems are listed with their line numbers: a file with any bad line \
            imports nothing. Importing the same file again changes nothing. Imported history feeds the \
            reports (rfm, lifecycle, clv, ...) and creates members for unknown cards; it earns no points.
            """)

    @Argument(help: "The CSV file.") var file: String
    @Option(help: "Who imports, for the audit trail (default: the login name).") var by: String?
    @OptionGroup var storage: StorageOptions

    func run() async throws {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw CommandFailure(code: "unreadable_file", message: "cannot read \(file) as UTF-8 text: check the path and encoding", exitCode: 2)
        }
        let actor = try OperatorInput.actor(by)
        let summary = try await storage.withStore { store, _ in
            let settings = try await store.analyticsSettings()
            let calendar = try ChainCalendar(identifier: try await store.chainTimeZone())
            let ranges = try await store.memberRanges() ?? []
            let rows = try HistoryCSV.parse(
                text, currency: settings.currency, calendar: calendar, memberRules: CardScanRules(memberRanges: ranges))
            let summary = try await store.importHistory(rows, actor: actor, now: Date())
            // An imported sale before a member's first sale here moves their first purchase: corrected now.
            for chunk in stride(from: 0, to: rows.count, by: 1_000).map({ Array(rows[$0..<min($0 + 1_000, rows.count)]) }) {
                try await store.reconcileGrants(cards: chunk.map(\.card), actor: "history import", now: Date())
            }
            return summary
        }
        if storage.json {
            Output.out(Output.json(summary))
        } else {
            Output.out(
                "Imported \(summary.sales) sales and \(summary.refunds) refunds; \(summary.membersCreated) new members; "
                    + "\(summary.alreadyImported) lines were already imported; \(summary.inLedger) lines are receipts the stores' "
                    + "ledgers already sent (kept from the ledger).")
        }
    }
}
