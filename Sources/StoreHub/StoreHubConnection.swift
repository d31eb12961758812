import Foundation
public import LedgerStore
public import SyncProtocol

/// How a till reaches its store hub: over the LAN (``HTTPHubConnection``), or in the hub's own process
/// (``LocalHubConnection``: the hub is a till of the store too).
public protocol StoreHubConnection: Sendable {
    /// The till `ledger`'s entries after the hub's mark, and its report.
    func push(ledger: String, _ push: HubPush) async throws -> HubPushResult
    /// The store's other tills' entries after `cursor`.
    func updates(ledger: String, since cursor: Int64) async throws -> HubUpdates
    /// Holds points for a redemption the till is about to write (0 points: releases the hold).
    func hold(ledger: String, _ request: HubHoldRequest) async throws -> HubHoldResult
}

/// Why an exchange with the store hub did not complete.
public enum StoreHubFailure: Error, CustomStringConvertible, Sendable {
    /// The hub could not be reached or did not answer in time: the till works alone meanwhile.
    case unreachable(String)
    /// The hub refused (signature, another store, a bad batch).
    case refused(status: Int, code: String, message: String)

    public var description: String {
        switch self {
        case .unreachable(let message): "store hub unreachable: \(message)"
        case .refused(let status, let code, let message): "store hub refused (\(status) \(code)): \(message)"
        }
    }
}

extension HubEntryRecord {
    /// The hub's record of a till's entry: its figures, and the entry itself as the sync contract's JSON.
    init(ledger: String, entry: SyncEntry) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        self.init(
            ledger: ledger, seq: entry.seq, card: entry.card, kind: entry.kind, points: entry.points,
            amountMinor: entry.amountMinor, createdAtMilliseconds: entry.createdAtMilliseconds,
            entry: String(decoding: try encoder.encode(entry), as: UTF8.self), receipt: entry.receipt)
    }
}
