public import Foundation
public import LedgerStore
import LoyaltyCore
public import SyncProtocol

/// The store hub's work on its ledger file: it keeps every till's entries of the store (each (till, seq)
/// once, contiguous) and hands each till the others'. The HTTP routes and the hub's own exchange both
/// go through it.
public struct HubService: Sendable {
    public let ledger: LedgerDatabase

    public init(ledger: LedgerDatabase) {
        self.ledger = ledger
    }

    /// The store this hub serves (its own ledger's store).
    public var storeId: String? { TillIdentity(ledgerName: ledger.storeId)?.storeId }

    public func receive(ledger name: String, _ push: HubPush, at now: Date = Date()) throws -> HubPushResult {
        guard push.entries.count <= HubPush.maximumEntries else {
            throw HubRefusal(
                code: "batch_too_large", message: "a push to the hub holds at most \(HubPush.maximumEntries) entries")
        }
        guard !push.ledgerId.isEmpty, push.ledgerId.count <= 64 else {
            throw HubRefusal(code: "malformed_batch", message: "ledger_id must be 1 to 64 characters")
        }
        if let bad = push.entries.lazy.compactMap(\.problem).first {
            throw HubRefusal(code: "invalid_entry", message: "an entry cannot be stored: \(bad); nothing was stored")
        }
        for (earlier, later) in zip(push.entries, push.entries.dropFirst()) where later.seq != earlier.seq + 1 {
            throw HubRefusal(code: "malformed_batch", message: "entries must come in sequence order without gaps")
        }
        let reportText = String(decoding: try JSONEncoder().encode(push.report), as: UTF8.self)
        let receipt: HubReceipt
        do {
            receipt = try ledger.hubReceive(
                ledger: name, ledgerId: push.ledgerId,
                entries: try push.entries.map { try HubEntryRecord(ledger: name, entry: $0) },
                report: reportText, headOfficeAcknowledged: push.report.headOfficeAcknowledged, at: now)
        } catch let refusal as LoyaltyError {
            throw HubRefusal(code: refusal.code, message: refusal.message)
        }
        return HubPushResult(hubAcknowledged: receipt.hubAcknowledged, expectedSeq: receipt.expectedSeq)
    }

    public func updates(ledger name: String, since cursor: Int64) throws -> HubUpdates {
        let held = try ledger.hubEntries(notOf: name, after: cursor, limit: HubUpdates.maximumEntries)
        let decoder = JSONDecoder()
        let tills = try ledger.hubTills()
        let entries = held.entries.compactMap { stored -> HubEntry? in
            guard let entry = try? decoder.decode(SyncEntry.self, from: Data(stored.entry.utf8)) else { return nil }
            return HubEntry(ledger: stored.ledger, entry: entry)
        }
        var page = HubUpdates(
            entries: entries, cursor: held.cursor, more: held.entries.count == HubUpdates.maximumEntries,
            headOfficeMarks: Dictionary(uniqueKeysWithValues: tills.map { ($0.ledger, $0.headOfficeAcknowledged) }),
            tills: tills.map {
                HubTill(
                    ledger: $0.ledger,
                    report: $0.report.flatMap { try? decoder.decode(TillReport.self, from: Data($0.utf8)) },
                    lastSeenMilliseconds: $0.lastSeenMilliseconds, hubAcknowledged: $0.hubAcknowledged,
                    headOfficeAcknowledged: $0.headOfficeAcknowledged, refused: $0.refused)
            },
            hubAcknowledged: tills.first { $0.ledger == name }?.hubAcknowledged ?? 0,
            withdrawn: tills.filter { $0.refused != nil }.map(\.ledger))
        page.hubGeneration = try ledger.hubGeneration()
        return page
    }
}

extension HubService {
    public func hold(ledger name: String, _ request: HubHoldRequest) throws -> HubHoldResult {
        guard (0...1_000_000_000_000).contains(request.points), request.balance.magnitude <= 1_000_000_000_000_000,
            request.cursor >= 0, !request.cards.isEmpty, request.cards.count <= HubHoldQuestion.maximumCards
        else {
            throw HubRefusal(
                code: "bad_request", message: "a hold is of 0 to 10^12 points for 1 to 100 cards, a cursor ≥ 0")
        }
        let cards: [String]
        let receipt: ReceiptReference
        do {
            cards = try request.cards.map { try CardNumber($0).value }
            receipt = try ReceiptReference(request.receipt)
        } catch {
            throw HubRefusal(code: "bad_request", message: "a hold needs member cards and a receipt reference")
        }
        let question = HubHoldQuestion(
            cards: cards, vouchedBalance: request.balance, cursor: request.cursor, points: request.points,
            receipt: receipt.value)
        switch try ledger.hubHold(question, ledger: name) {
        case .held: return HubHoldResult(outcome: HubHoldResult.held)
        case .refused(let available): return HubHoldResult(outcome: HubHoldResult.refused, available: available)
        case .blocked: return HubHoldResult(outcome: HubHoldResult.blocked)
        }
    }
}

/// A refusal by the hub (4xx): nothing was stored.
public struct HubRefusal: Error, Sendable {
    public var code: String
    public var message: String
}

/// The hub's own exchange: it is a till of the store too, in the same process.
public struct LocalHubConnection: StoreHubConnection {
    public let hub: HubService

    public init(hub: HubService) {
        self.hub = hub
    }

    public func push(ledger: String, _ push: HubPush) async throws -> HubPushResult {
        try hub.receive(ledger: ledger, push)
    }

    public func updates(ledger: String, since cursor: Int64) async throws -> HubUpdates {
        try hub.updates(ledger: ledger, since: cursor)
    }

    public func hold(ledger: String, _ request: HubHoldRequest) async throws -> HubHoldResult {
        try hub.hold(ledger: ledger, request)
    }
}
