public import LoyaltyCore

/// A store's totals over all its tills (`0042`, `0042.1`, `0042.2`, ... add up to store `0042`).
public struct StoreRollup: Codable, Hashable, Sendable {
    public var storeId: String
    /// The ledgers that wrote entries: the store's one box and each till, by ledger name.
    public var ledgers: [String]
    public var entries: Int64
    public var points: Int64

    /// Per-ledger totals added up per store, in store order.
    public static func byStore(_ totals: [StoreTotal]) -> [StoreRollup] {
        var rollups: [String: StoreRollup] = [:]
        for total in totals {
            let storeId = TillIdentity(ledgerName: total.storeId)?.storeId ?? total.storeId
            var rollup = rollups[storeId] ?? StoreRollup(storeId: storeId, ledgers: [], entries: 0, points: 0)
            rollup.ledgers.append(total.storeId)
            rollup.entries += total.entries
            rollup.points += total.points
            rollups[storeId] = rollup
        }
        return rollups.values.sorted { $0.storeId < $1.storeId }
    }
}

/// SQL shared by the drivers: the marks of the ledgers whose name starts with `?1` (one small scan of the stores,
/// whatever the collation: no range or LIKE on the text).
enum LedgerPrefixQueries {
    static func marks(prefix: String) -> String {
        "SELECT id, acknowledged_seq FROM hq_stores WHERE substr(id, 1, length(\(prefix))) = \(prefix)"
    }

    /// The prefix of `ledger`'s store's tills (`0042.` for `0042.3`); nil for a store's one box.
    static func otherTillsPrefix(of ledger: String) -> String? {
        guard let identity = TillIdentity(ledgerName: ledger), identity.till != nil else { return nil }
        return identity.storeId + "."
    }
}
