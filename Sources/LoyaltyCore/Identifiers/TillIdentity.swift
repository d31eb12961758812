/// Which ledger a till writes: a store's one box (`0042`) or one till of a store with several
/// (`0042.3`). Each till has its own ledger, sequence and (derived) secret; head office keeps each
/// till's entries apart and adds them up per store. Store ids never contain a dot, so the name is
/// unambiguous.
public struct TillIdentity: Hashable, Sendable, CustomStringConvertible {
    /// The store (letters, digits, '-', '_').
    public var storeId: String
    /// The till's number within the store, 1 to ``maximumTill``; nil for a store with one box.
    public var till: Int?

    /// The highest till number a store may give.
    public static let maximumTill = 999

    public init(storeId: String, till: Int?) {
        precondition(till.map { (1...Self.maximumTill).contains($0) } ?? true, "a till number is 1 to 999")
        self.storeId = storeId
        self.till = till
    }

    /// Reads a ledger name (`0042` or `0042.3`); nil when it is neither.
    public init?(ledgerName: String) {
        let parts = ledgerName.split(separator: ".", omittingEmptySubsequences: false)
        guard let first = parts.first, Self.isStoreId(first) else { return nil }
        switch parts.count {
        case 1: self.init(storeId: String(first), till: nil)
        case 2:
            guard parts[1].count <= 3, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), parts[1].first != "0",
                let number = Int(parts[1]), (1...Self.maximumTill).contains(number)
            else { return nil }
            self.init(storeId: String(first), till: number)
        default: return nil
        }
    }

    /// The name head office and the store hub know this ledger by.
    public var ledgerName: String { till.map { "\(storeId).\($0)" } ?? storeId }

    public var description: String { till.map { "store \(storeId) till \($0)" } ?? "store \(storeId)" }

    /// Whether `text` is a store id: 1 to 64 ASCII letters, digits, '-' or '_'.
    public static func isStoreId(_ text: some StringProtocol) -> Bool {
        !text.isEmpty && text.count <= 64
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}
