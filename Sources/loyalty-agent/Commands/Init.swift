import ArgumentParser
import LedgerStore
import LoyaltyCore

/// Binds this box's ledger to its store, once. A till may sell before it is configured: those
/// entries are pushed under the id bound here.
struct Init: LedgerCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bind this till's ledger to its store id (once; creates the ledger if needed).",
        discussion: "Sales made before are kept and pushed under this id. A ledger bound to another store is refused.")

    @OptionGroup var global: GlobalOptions

    struct Result: Encodable {
        var storeId: String
        var ledgerId: String
        var databasePath: String
        var entries: Int64
        /// The till's number in a store with several tills (the ledger is then STORE.TILL).
        var till: Int?
    }

    func execute(_ ledger: LedgerDatabase) throws -> CommandOutput {
        guard let storeId = ledger.assignedStoreId else {
            throw LoyaltyError.badInput("store_unassigned", "init needs the store id: loyalty-agent init --store-id STORE_ID")
        }
        let status = try ledger.status()
        let identity = TillIdentity(ledgerName: storeId)
        let result = Result(
            storeId: storeId, ledgerId: ledger.ledgerId, databasePath: ledger.path, entries: status.entries, till: identity?.till)
        let owner = identity.map { $0.till == nil ? "store \($0.storeId)" : "\($0) (ledger \(storeId))" } ?? "store \(storeId)"
        return CommandOutput(
            json: result,
            human: "Ledger \(ledger.path) belongs to \(owner) (ledger id \(ledger.ledgerId), \(status.entries) entries).")
    }
}
