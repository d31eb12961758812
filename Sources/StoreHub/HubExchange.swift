public import Foundation
public import LedgerStore
import LoyaltyCore
public import SyncClient
public import SyncProtocol

/// What one exchange with the store hub moved.
public struct HubExchangeReport: Codable, Hashable, Sendable {
    /// This till's entries the hub took now, and how far it holds them.
    public var pushedEntries: Int
    public var hubAcknowledged: Int64
    /// The store's other tills' entries received now.
    public var receivedEntries: Int
    /// The store's tills the hub knows (this one included once it has pushed).
    public var tills: [HubTill]
}

/// A till's exchange with its store hub: its entries after the hub's mark go up (the hub holds them
/// durably and relays them to head office), the store's other tills' entries come down and count in
/// members' balances here until head office's snapshots hold them. Head office's mark is never moved
/// by the hub: the till still pushes to head office itself, which keeps each entry once.
public struct HubExchange: Sendable {
    public let ledger: LedgerDatabase
    public let connection: any StoreHubConnection
    /// The scanners attached now (for the store's manager page).
    public var scanners: @Sendable () -> [String]
    /// Bound on batches per direction in one exchange, so one exchange always ends.
    public var maximumBatches: Int

    public init(
        ledger: LedgerDatabase, connection: any StoreHubConnection, maximumBatches: Int = 100,
        scanners: @escaping @Sendable () -> [String] = { [] }
    ) {
        precondition(maximumBatches > 0)
        self.ledger = ledger
        self.connection = connection
        self.maximumBatches = maximumBatches
        self.scanners = scanners
    }

    public func exchangeOnce() async throws -> HubExchangeReport {
        let name = ledger.storeId
        guard TillIdentity(ledgerName: name)?.till != nil else {
            throw StoreHubFailure.refused(
                status: 0, code: "not_a_till",
                message: "this ledger (\(name.isEmpty ? "unassigned" : name)) is not one till of a store: "
                    + "give it --store-id STORE --till N to use a store hub")
        }
        var report = HubExchangeReport(pushedEntries: 0, hubAcknowledged: 0, receivedEntries: 0, tills: [])
        var mark = try ledger.hubPosition().hubAcknowledged
        let lastSeq = try ledger.syncPosition().lastSeq
        for _ in 0..<maximumBatches {
            let entries = try ledger.outbox(after: mark, limit: HubPush.maximumEntries)
            let result = try await connection.push(
                ledger: name,
                HubPush(ledgerId: ledger.ledgerId, entries: entries.map { SyncEntry($0) }, report: try tillReport()))
            // Overflow-safe: these numbers come from the network.
            let answered = max(0, result.expectedSeq.map { $0 > 0 ? $0 - 1 : 0 } ?? result.hubAcknowledged)
            // The hub holds less than this till thought (it was restored from an older copy): resend from there
            // now (found by attack: the lost redemption was spent again at another till meanwhile).
            if answered < mark {
                mark = answered
                try ledger.recordHubAcknowledged(mark)
                continue
            }
            let held = min(answered, entries.last?.seq ?? mark, lastSeq)
            report.pushedEntries += Int(max(0, held - mark))
            mark = max(mark, held)
            try ledger.recordHubAcknowledged(mark)
            if entries.isEmpty || (result.expectedSeq == nil && entries.count < HubPush.maximumEntries) { break }
        }
        report.hubAcknowledged = mark
        var cursor = try ledger.hubPosition().cursor
        for _ in 0..<maximumBatches {
            var page = try await connection.updates(ledger: name, since: cursor)
            // Another hub generation (restarted, perhaps from an older copy): its cursor is read from the start
            // (found by attack: a till whose cursor was beyond a restored hub's got nothing new from it).
            if try ledger.adoptHubGeneration(page.hubGeneration), cursor != 0 {
                cursor = 0
                page = try await connection.updates(ledger: name, since: 0)
            }
            let records = page.entries.filter { $0.entry.problem == nil && $0.ledger != name }.map {
                var record = HubEntryRecord(
                    ledger: $0.ledger, seq: $0.entry.seq, card: $0.entry.card, kind: $0.entry.kind,
                    points: $0.entry.points,
                    amountMinor: $0.entry.amountMinor, createdAtMilliseconds: $0.entry.createdAtMilliseconds, entry: "",
                    memberName: $0.entry.memberName, receipt: $0.entry.receipt, joinsCard: $0.entry.joinsCard)
                record.couponCode = $0.entry.couponCode
                record.reason = $0.entry.reason
                record.ruleVersion = $0.entry.ruleVersion
                return record
            }
            let tills = String(decoding: try JSONEncoder().encode(page.tills), as: UTF8.self)
            // A hub that holds less than its cursor said (replaced) is read again from its start.
            let next = page.cursor < cursor ? 0 : page.cursor
            try ledger.applyHubUpdates(
                entries: records, cursor: next, hubAcknowledged: nil, storeTills: tills, withdrawn: page.withdrawn ?? []
            )
            report.receivedEntries += records.count
            report.tills = page.tills
            if !page.more || next == cursor { break }
            cursor = next
        }
        return report
    }

    func tillReport() throws -> TillReport {
        let position = try ledger.syncPosition()
        let health = try ledger.syncHealth()
        return TillReport(
            scanners: scanners(), headOfficeBacklog: position.backlog, headOfficeAcknowledged: position.acknowledgedSeq,
            lastHeadOfficeSyncMilliseconds: health.lastSuccess.map { Int64($0.timeIntervalSince1970 * 1000) })
    }
}

/// The hub's relay: the store's other tills' entries it holds and head office does not yet, pushed to head
/// office signed as each till (the hub holds the store's secret). Head office keeps each (till, seq) once,
/// so a till that also pushes for itself doubles nothing.
public struct HubRelay: Sendable {
    public let ledger: LedgerDatabase
    public let headOffice: SyncClient
    /// Bound on batches per till in one run.
    public var maximumBatchesPerTill: Int

    public init(ledger: LedgerDatabase, headOffice: SyncClient, maximumBatchesPerTill: Int = 20) {
        precondition(maximumBatchesPerTill > 0)
        self.ledger = ledger
        self.headOffice = headOffice
        self.maximumBatchesPerTill = maximumBatchesPerTill
    }

    /// Head office's refusals that no retry changes: the till was revoked, or another ledger file holds its name.
    static let refusedForGood: Set<String> = ["store_revoked", "ledger_conflict"]

    /// Relays what head office lacks; returns the entries head office took, and each till it could not relay.
    public func relayOnce() async -> (relayed: Int, failures: [String: String]) {
        var relayed = 0
        var failures: [String: String] = [:]
        let own = ledger.storeId
        let tills = (try? ledger.hubTills()) ?? []
        for till in tills where till.ledger != own && till.hubAcknowledged > till.headOfficeAcknowledged {
            do {
                for _ in 0..<maximumBatchesPerTill {
                    guard let batch = try ledger.hubRelayBatch(ledger: till.ledger, limit: HubPush.maximumEntries),
                        !batch.entries.isEmpty
                    else { break }
                    let entries = try batch.entries.map {
                        try JSONDecoder().decode(SyncEntry.self, from: Data($0.utf8))
                    }
                    let result = try await headOffice.pushRelayed(
                        ledgerName: till.ledger,
                        batch: PushBatch(entries: entries, backlog: batch.backlog, ledgerId: batch.ledgerId))
                    relayed += result.accepted
                    let mark =
                        result.expectedSeq.map { min(result.acknowledgedSeq, $0 > 0 ? $0 - 1 : 0) }
                        ?? result.acknowledgedSeq
                    try ledger.hubRecordHeadOfficeMark(ledger: till.ledger, acknowledged: mark, fromHeadOffice: true)
                    if result.accepted == 0 && result.duplicates == 0 && result.expectedSeq == nil { break }
                }
            } catch SyncFailure.refused(_, let code, let message) where Self.refusedForGood.contains(code) {
                // Head office will never hold these entries: the store's tills must stop counting them.
                try? ledger.hubWithdraw(ledger: till.ledger, reason: "\(code): \(message)")
                failures[till.ledger] = "head office refuses it for good (\(code)); its entries are withdrawn"
            } catch {
                failures[till.ledger] = "\(error)"
            }
        }
        return (relayed, failures)
    }
}
