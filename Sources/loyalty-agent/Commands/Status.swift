import ArgumentParser
import LedgerStore

struct Status: LedgerCommand {
    static let configuration = CommandConfiguration(
        abstract: "The store's health: members, today's totals, entries not yet at head office, database size.")

    @OptionGroup var global: GlobalOptions

    func execute(_ ledger: LedgerDatabase) throws -> CommandOutput {
        let status = try ledger.status()
        let human = """
            Store \(status.storeId ?? "unassigned (run `loyalty-agent init --store-id STORE_ID`)") — ledger \(status.databasePath)
              health            \(status.health) (journal \(status.journalMode), \(status.databaseBytes) bytes)
              members           \(status.members)
              entries           \(status.entries) (last sequence \(status.lastSeq))
              unsynced          \(status.unsyncedEntries) entries not yet at head office (acknowledged up to \(status.acknowledgedSeq))
              last sync         \(status.lastSyncSuccess ?? "never")\(syncProblem(status))\(storeHub(status))
              today (\(status.timeZone), from \(status.day)):
                entries         \(status.entriesToday)
                net sales       \(status.salesToday) \(status.currency)
                points issued   \(status.pointsIssuedToday)
                points redeemed \(status.pointsRedeemedToday)
                points reversed \(status.pointsReversedToday)
              program version   \(status.programVersion)
            """
        return CommandOutput(json: status, human: human, exitCode: status.health == "ok" ? 0 : AgentExit.storage.rawValue)
    }

    /// A store of several tills: the hub's line.
    private func storeHub(_ status: StoreStatus) -> String {
        guard let last = status.lastStoreHubExchange else { return "" }
        return """

              store hub         \(status.storeHubTills ?? 0) tills known, last exchange \(last); it holds this till's entries up to \(status.storeHubAcknowledged ?? 0)
            """
    }

    /// The failing sync's lines, aligned with the others: since when head office is unreachable, and why.
    private func syncProblem(_ status: StoreStatus) -> String {
        guard let error = status.lastSyncError else { return "" }
        return """

              offline since     \(status.offlineSince ?? status.lastSyncErrorAt ?? "?") (sales go on; \(status.unsyncedEntries) entries wait)
              last sync error   \(error) (at \(status.lastSyncErrorAt ?? "?"))
            """
    }
}
