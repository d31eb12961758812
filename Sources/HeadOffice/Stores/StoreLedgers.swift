/// A store with several tills syncs one ledger per till (`north.1`, `north.2`); what names a store as people do
/// (an import from the old system, a cashier's `refund --sold-at north`) means the store's own ledger or any
/// of its tills'.
enum StoreLedgers {
    /// SQL: whether the ledger `ledger` (an expression) is the store `store` (an expression) or one of its tills.
    static func ledger(_ ledger: String, isOfStore store: String) -> String {
        "(\(ledger) = \(store) OR substr(\(ledger), 1, length(\(store)) + 1) = \(store) || '.')"
    }
}
