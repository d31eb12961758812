public import Foundation
import GRDB
import LoyaltyCore

/// One entry of a till as the store hub holds it: the figures a till's view needs, and the entry as it
/// travels to head office (`entry`, the sync contract's JSON, relayed as received).
public struct HubEntryRecord: Hashable, Sendable {
    public var ledger: String
    public var seq: Int64
    public var card: String
    public var kind: String
    public var points: Int64
    public var amountMinor: Int64
    public var createdAtMilliseconds: Int64
    public var entry: String
    /// An enrolment's name (a till that has not heard of the card knows the member by it).
    public var memberName: String?
    /// The POS receipt (a redemption's matches the hold the till took for it at the hub).
    public var receipt: String
    /// A card added to a member (an enrol entry joining `card` to the member holding this one).
    public var joinsCard: String? = nil
    /// A coupon entry's coupon, what happened to it (`issued`, `used`, `voided`) and its program version.
    public var couponCode: String? = nil
    public var reason: String? = nil
    public var ruleVersion: Int = 0

    public init(
        ledger: String, seq: Int64, card: String, kind: String, points: Int64, amountMinor: Int64,
        createdAtMilliseconds: Int64, entry: String, memberName: String? = nil, receipt: String = "",
        joinsCard: String? = nil
    ) {
        self.joinsCard = joinsCard
        self.memberName = memberName
        self.receipt = receipt
        self.ledger = ledger
        self.seq = seq
        self.card = card
        self.kind = kind
        self.points = points
        self.amountMinor = amountMinor
        self.createdAtMilliseconds = createdAtMilliseconds
        self.entry = entry
    }
}

/// A till of the store as the hub last heard from it.
public struct HubTillRecord: Hashable, Sendable {
    public var ledger: String
    /// The till's own account of itself (scanners, backlog), as JSON it sent.
    public var report: String?
    public var lastSeenMilliseconds: Int64?
    /// How far the hub holds the till's entries, and how far head office does (as the hub knows).
    public var hubAcknowledged: Int64
    public var headOfficeAcknowledged: Int64
    /// Why head office refuses this till (revoked, another ledger file): its entries are withdrawn.
    public var refused: String? = nil
}

/// What the hub answers a till's push with.
public struct HubReceipt: Hashable, Sendable {
    /// The till's entries the hub holds, contiguous from 1.
    public var hubAcknowledged: Int64
    /// Set when the push did not continue from ``hubAcknowledged``: resend from this sequence.
    public var expectedSeq: Int64?
}

/// The store hub's side: every till's entries for the store, held durably (the hub's ledger file) and
/// relayed to head office. Like head office, it keeps each (till, seq) once and contiguous, so a push
/// retried or cut mid-way neither loses nor doubles an entry.
extension LedgerDatabase {
    /// The most entries one push to the hub may carry.
    public static let maximumHubBatchEntries = 500

    /// Stores a till's entries (from the hub's mark on) and its report. A till whose ledger was replaced
    /// (another ledger id under the same name) starts again from nothing: the hub drops what it held of
    /// the old one, which head office has or refuses anyway.
    public func hubReceive(
        ledger: String, ledgerId: String, entries: [HubEntryRecord], report: String?, headOfficeAcknowledged: Int64,
        at now: Date = Date()
    ) throws -> HubReceipt {
        precondition(entries.count <= Self.maximumHubBatchEntries, "a hub batch is bounded")
        return try write { db in
            let known = try Row.fetchOne(
                db,
                sql: "SELECT ledger_id, hub_acknowledged, head_office_acknowledged FROM hub_ledgers WHERE ledger = ?",
                arguments: [ledger])
            var acknowledged: Int64 = known?[1] ?? 0
            if let refused = try String.fetchOne(
                db, sql: "SELECT refused FROM hub_ledgers WHERE ledger = ?", arguments: [ledger])
            {
                throw LoyaltyError.refused(
                    "till_refused", "head office refuses till \(ledger) (\(refused)); the hub takes nothing from it")
            }
            if let known, (known[0] as String) != ledgerId {
                // As head office does: one ledger file per till name (found by attack: a second box under the same
                // number, or a till re-initialised, made the hub drop the first one's entries).
                throw LoyaltyError.refused(
                    "ledger_conflict",
                    "till \(ledger) is another ledger file at the hub (a till re-initialised, or two boxes with one number); "
                        + "nothing was stored: give this box its own till number (`loyalty-agent init --store-id STORE --till N`)"
                )
            } else if known == nil {
                try db.execute(
                    sql: "INSERT INTO hub_ledgers (ledger, ledger_id) VALUES (?, ?)", arguments: [ledger, ledgerId])
            }
            var expected: Int64?
            // An entry the hub holds comes again only as it was: other content under its sequence is another ledger
            // history (a till restored from its own old copy), refused like head office refuses it.
            for entry in entries where entry.seq <= acknowledged {
                if let stored = try String.fetchOne(
                    db, sql: "SELECT entry FROM hub_entries WHERE ledger = ? AND seq = ?",
                    arguments: [ledger, entry.seq]),
                    stored != entry.entry
                {
                    throw LoyaltyError.refused(
                        "ledger_conflict",
                        "till \(ledger)'s entry \(entry.seq) differs from the one the hub holds (a till restored from an old copy?); "
                            + "nothing was stored: give this box its own till number")
                }
            }
            for entry in entries where entry.seq > acknowledged {
                guard entry.seq == acknowledged + 1 else {
                    expected = acknowledged + 1
                    break
                }
                try db.execute(
                    sql: """
                        INSERT INTO hub_entries (ledger, seq, entry, received_at_ms, card, kind, points, receipt)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        ledger, entry.seq, entry.entry, now.millisecondsSince1970, entry.card, entry.kind, entry.points,
                        entry.receipt,
                    ])
                // The redemption a hold was taken for has arrived: it counts itself from now on.
                if entry.kind == "redeem" {
                    try db.execute(
                        sql: "DELETE FROM hub_holds WHERE ledger = ? AND receipt = ?",
                        arguments: [ledger, entry.receipt])
                }
                acknowledged = entry.seq
            }
            try db.execute(
                sql: """
                    UPDATE hub_ledgers SET hub_acknowledged = ?, report = IFNULL(?, report), last_seen_ms = ?,
                        head_office_acknowledged = MAX(head_office_acknowledged, MIN(?, ?))
                    WHERE ledger = ?
                    """,
                arguments: [
                    acknowledged, report, now.millisecondsSince1970, headOfficeAcknowledged, acknowledged, ledger,
                ])
            return HubReceipt(hubAcknowledged: acknowledged, expectedSeq: expected)
        }
    }

    /// The store's entries after `cursor` that are not `ledger`'s own, oldest first, at most `limit`,
    /// with the cursor to ask from next.
    public func hubEntries(
        notOf ledger: String, after cursor: Int64, limit: Int
    ) throws -> (entries: [(ledger: String, entry: String)], cursor: Int64) {
        precondition(limit > 0)
        return try read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, ledger, entry FROM hub_entries
                    WHERE id > ? AND ledger <> ? AND ledger NOT IN (SELECT ledger FROM hub_ledgers WHERE refused IS NOT NULL)
                    ORDER BY id LIMIT ?
                    """,
                arguments: [cursor, ledger, limit])
            // The cursor moves past the caller's own entries too (they are not sent back).
            let last = try Int64.fetchOne(db, sql: "SELECT IFNULL(MAX(id), 0) FROM hub_entries") ?? 0
            let next = rows.count == limit ? (rows.last?[0] as Int64? ?? cursor) : max(cursor, last)
            return (rows.map { (ledger: $0[1], entry: $0[2]) }, next)
        }
    }

    /// Every till the hub has heard from.
    public func hubTills() throws -> [HubTillRecord] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT ledger, report, last_seen_ms, hub_acknowledged, head_office_acknowledged, refused
                    FROM hub_ledgers ORDER BY ledger
                    """
            ).map {
                HubTillRecord(
                    ledger: $0[0], report: $0[1], lastSeenMilliseconds: $0[2], hubAcknowledged: $0[3],
                    headOfficeAcknowledged: $0[4], refused: $0[5])
            }
        }
    }

    /// A till's entries head office has not acknowledged yet (as the hub knows), oldest first, for relaying.
    public func hubRelayBatch(
        ledger: String, limit: Int
    ) throws -> (ledgerId: String, entries: [String], backlog: Int64)? {
        precondition(limit > 0)
        return try read { db in
            guard
                let known = try Row.fetchOne(
                    db,
                    sql:
                        "SELECT ledger_id, hub_acknowledged, head_office_acknowledged FROM hub_ledgers WHERE ledger = ?",
                    arguments: [ledger])
            else { return nil }
            let (ledgerId, held, mark): (String, Int64, Int64) = (known[0], known[1], known[2])
            let entries = try String.fetchAll(
                db, sql: "SELECT entry FROM hub_entries WHERE ledger = ? AND seq > ? ORDER BY seq LIMIT ?",
                arguments: [ledger, mark, limit])
            return (ledgerId, entries, max(0, held - mark - Int64(entries.count)))
        }
    }

    /// Head office refuses the till for good (revoked, or another ledger file holds its name there): the hub
    /// takes nothing more from it and withdraws its entries from the store's other tills (they would count
    /// for ever, head office never holding them; found by attack: a revoked till's 5,000 points were spent).
    public func hubWithdraw(ledger: String, reason: String) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE hub_ledgers SET refused = ? WHERE ledger = ? AND refused IS NULL",
                arguments: [reason, ledger])
        }
    }

    /// The hub's generation: cursors into its entries mean something only within one.
    public func hubGeneration() throws -> String {
        if let generation = try read({ db in
            try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'hub_generation'")
        }) {
            return generation
        }
        return try rotateHubGeneration()
    }

    /// A new generation, as the hub's daemon starts: a hub restored from an older copy of its file reuses the
    /// ids of entries the tills' cursors had passed, so every till reads it again from the start.
    @discardableResult
    public func rotateHubGeneration() throws -> String {
        let generation = UUID().uuidString.lowercased()
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO store_meta (key, value) VALUES ('hub_generation', ?)
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value
                    """,
                arguments: [generation])
        }
        return generation
    }

    /// Records a signed request's nonce, durably (a hub restarted must not take a request again); false
    /// when it was used already. Expired nonces go on the way.
    public func hubUseNonce(_ nonce: String, expiresAt: Date, now: Date = Date()) throws -> Bool {
        try write { db in
            try db.execute(
                sql: "DELETE FROM hub_nonces WHERE expires_at_ms < ?", arguments: [now.millisecondsSince1970])
            try db.execute(
                sql: "INSERT INTO hub_nonces (nonce, expires_at_ms) VALUES (?, ?) ON CONFLICT DO NOTHING",
                arguments: [nonce, expiresAt.millisecondsSince1970])
            return db.changesCount == 1
        }
    }

    /// How long the hub keeps an entry head office holds: a till cut off from head office (not from the hub)
    /// still needs it while its own snapshots are older.
    public static let hubRetentionMilliseconds: Int64 = 7 * 86_400_000

    /// Head office's answer to a relayed push (or a till's word on it): its mark for the till's ledger.
    /// Head office's own answer is authoritative and may rewind the mark (it was restored). Entries head office
    /// holds that are older than ``hubRetentionMilliseconds`` go: the hub's file is bounded by a week of sales.
    public func hubRecordHeadOfficeMark(
        ledger: String, acknowledged: Int64, fromHeadOffice: Bool, now: Date = Date()
    ) throws {
        try write { db in
            try db.execute(
                sql: """
                    DELETE FROM hub_entries WHERE ledger = ? AND received_at_ms < ?
                        AND seq <= (SELECT head_office_acknowledged FROM hub_ledgers WHERE ledger = ?)
                    """,
                arguments: [ledger, now.millisecondsSince1970 - Self.hubRetentionMilliseconds, ledger])
            try db.execute(
                sql: fromHeadOffice
                    ? "UPDATE hub_ledgers SET head_office_acknowledged = MIN(?, hub_acknowledged) WHERE ledger = ?"
                    : """
                    UPDATE hub_ledgers SET head_office_acknowledged = MAX(head_office_acknowledged, MIN(?, hub_acknowledged))
                    WHERE ledger = ?
                    """,
                arguments: [acknowledged, ledger])
        }
    }
}
