import ArgumentParser
import Foundation
import Synchronization
import LedgerStore
import LoyaltyCore

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The ledger database file. Default: $LOYALTY_AGENT_DB, else /var/lib/loyalty-agent/ledger.db when writable, else ~/.local/share/loyalty-agent/ledger.db.",
            valueName: "path"))
    var db: String?

    @Flag(name: .long, help: "Print exactly one JSON object on stdout.")
    var json = false

    @Option(help: ArgumentHelp("Configuration file (default: $LOYALTY_AGENT_CONFIG, else /etc/loyalty-agent/agent.yaml if present).", valueName: "path"))
    var config: String?

    @Option(
        name: .long,
        help: ArgumentHelp("The store this ledger belongs to; binds an unassigned ledger (default: $LOYALTY_STORE_ID, else store_id in agent.yaml).", valueName: "id"))
    var storeId: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "This till's number in a store with several tills, 1 to 999: its ledger is STORE.TILL at head office and the "
                + "store hub (default: $LOYALTY_TILL, else till in agent.yaml; none: the store's only box).",
            valueName: "number"))
    var till: String?

    @Option(
        name: .customLong("member-range"),
        help: ArgumentHelp(
            "Member card numbers: a prefix or FROM-TO (repeatable; default: $LOYALTY_MEMBER_RANGES or member_ranges in agent.yaml, comma-separated).",
            valueName: "range"))
    var memberRanges: [String] = []

    /// The one definition of a member card for this call (the same as `scan` uses).
    func cardRules() throws(LoyaltyError) -> CardScanRules {
        try MemberRanges.rules(flags: memberRanges)
    }

    /// A typed card number, checked by the member-card rules.
    func memberCard(_ text: String) throws(LoyaltyError) -> CardNumber {
        try cardRules().memberCard(typed: text)
    }

    var databasePath: String {
        if let db, !db.isEmpty { return db }
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["LOYALTY_AGENT_DB"], !path.isEmpty { return path }
        if let path = AgentConfigFile.current.withLock({ $0.string("db") }) { return path }
        let systemFolder = "/var/lib/loyalty-agent"
        if access(systemFolder, W_OK) == 0 { return systemFolder + "/ledger.db" }
        let dataHome = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/share"
        return dataHome + "/loyalty-agent/ledger.db"
    }

    /// Opens (creating on first use) the ledger these options name.
    func openLedger() throws -> LedgerDatabase {
        let environment = ProcessInfo.processInfo.environment
        let file = AgentConfigFile.current.withLock { $0 }
        let requestedStore = storeId ?? environment["LOYALTY_STORE_ID"] ?? file.string("store_id")
        if let requestedStore {
            guard !LedgerDatabase.unassignedStoreIdNames.contains(requestedStore), requestedStore.count <= 64,
                requestedStore.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            else {
                throw LoyaltyError.badInput("bad_store_id", "a store id is 1 to 64 letters, digits, '-' or '_' (not 'local')")
            }
            guard !PaymentCardDetector.mentionsPaymentCard(requestedStore) else {
                throw LoyaltyError.badInput("bad_store_id", "the store id holds a bank card number; choose another store id")
            }
        }
        let requestedTill = till ?? environment["LOYALTY_TILL"] ?? file.int("till").map(String.init)
        if let requestedTill {
            guard requestedStore != nil else {
                throw LoyaltyError.badInput("store_unassigned", "--till needs the store id too: --store-id STORE_ID --till \(requestedTill)")
            }
            guard requestedTill.count <= 3, let number = Int(requestedTill), (1...TillIdentity.maximumTill).contains(number),
                !requestedTill.hasPrefix("0")
            else {
                throw LoyaltyError.badInput("bad_till", "a till number is a whole number from 1 to \(TillIdentity.maximumTill), not '\(requestedTill)'")
            }
        }
        let requestedLedger = requestedStore.map { store in
            TillIdentity(storeId: store, till: requestedTill.flatMap { Int($0) }).ledgerName
        }
        let currency = try Currency.named(environment["LOYALTY_CURRENCY"] ?? file.string("currency") ?? "EUR")
        let ledger = try LedgerDatabase(
            path: databasePath, creating: .init(storeId: requestedLedger, program: .standard(currency: currency)))
        // A till used before it was configured binds to the store id (and till) it is given first.
        if let requestedLedger { try ledger.bindStore(requestedLedger) }
        MemberRanges.adopt(from: ledger)
        return ledger
    }
}

/// What a command prints: one JSON object with `--json`, else `human` text.
struct CommandOutput {
    var json: any Encodable
    var human: String
    /// 0 unless the command reports a failure that is not an error (e.g. `verify` finding a problem).
    var exitCode: Int32 = 0
}

/// A subcommand that works on the ledger and prints one result.
protocol LedgerCommand: ParsableCommand {
    var global: GlobalOptions { get }
    func execute(_ ledger: LedgerDatabase) throws -> CommandOutput
}

/// A subcommand that works on the ledger asynchronously (network).
protocol AsyncLedgerCommand: ParsableCommand {
    var global: GlobalOptions { get }
    func execute(_ ledger: LedgerDatabase) async throws -> CommandOutput
}

/// Where the member-card ranges come from: flags, else $LOYALTY_MEMBER_RANGES, else agent.yaml, else
/// the chain's ranges head office pushed with the last pull, else the in-store EAN-13 default.
enum MemberRanges {
    /// Head office's ranges, read from the ledger when a command opens it.
    static let pushed = Mutex<[String]?>(nil)

    /// Remembers the ranges head office pushed to this ledger, for the rules of this call.
    static func adopt(from ledger: LedgerDatabase) {
        let ranges = try? ledger.headOfficeMemberRanges()
        pushed.withLock { $0 = ranges ?? nil }
    }

    /// `$LOYALTY_MEMBER_RANGES`, read once: the daemon checks a card on every request.
    static let environmentRanges = ProcessInfo.processInfo.environment["LOYALTY_MEMBER_RANGES"]

    static func rules(flags: [String], prefix: String = "", suffix: String = "") throws(LoyaltyError) -> CardScanRules {
        var ranges = flags
        if ranges.isEmpty {
            let text =
                environmentRanges ?? AgentConfigFile.current.withLock { $0.string("member_ranges") } ?? ""
            ranges = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if ranges.isEmpty { ranges = pushed.withLock { $0 } ?? [] }
        return try CardScanRules(prefix: prefix, suffix: suffix, memberRanges: ranges).validated()
    }
}
