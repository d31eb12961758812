public import Foundation

/// A till's own account of itself for the store's manager page, sent with each push to the store hub.
public struct TillReport: Codable, Hashable, Sendable {
    /// The scanners the till has attached now (their names).
    public var scanners: [String]
    /// Entries the till has not had acknowledged by head office.
    public var headOfficeBacklog: Int64
    /// The till's head-office mark (its entries head office holds).
    public var headOfficeAcknowledged: Int64
    /// When the till last synced with head office (nil: never).
    public var lastHeadOfficeSyncMilliseconds: Int64?

    public init(
        scanners: [String], headOfficeBacklog: Int64, headOfficeAcknowledged: Int64,
        lastHeadOfficeSyncMilliseconds: Int64?
    ) {
        self.scanners = scanners
        self.headOfficeBacklog = headOfficeBacklog
        self.headOfficeAcknowledged = headOfficeAcknowledged
        self.lastHeadOfficeSyncMilliseconds = lastHeadOfficeSyncMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case scanners
        case headOfficeBacklog = "head_office_backlog"
        case headOfficeAcknowledged = "head_office_acknowledged"
        case lastHeadOfficeSyncMilliseconds = "last_head_office_sync_ms"
    }
}

/// `POST /v1/hub/ledgers/{ledger}/entries`: a till's entries after the hub's mark, in order, and its report.
public struct HubPush: Codable, Hashable, Sendable {
    /// The till's ledger file identity (a replaced ledger starts again at the hub).
    public var ledgerId: String
    public var entries: [SyncEntry]
    public var report: TillReport

    public init(ledgerId: String, entries: [SyncEntry], report: TillReport) {
        self.ledgerId = ledgerId
        self.entries = entries
        self.report = report
    }

    enum CodingKeys: String, CodingKey {
        case entries, report
        case ledgerId = "ledger_id"
    }

    /// Bounds on one push to the hub.
    public static let maximumEntries = 500
    public static let maximumBodyBytes = 2 * 1024 * 1024
}

/// The hub's answer to a push: how far it holds the till's entries.
public struct HubPushResult: Codable, Hashable, Sendable {
    public var hubAcknowledged: Int64
    /// Set when the push did not continue from the hub's mark: resend from here.
    public var expectedSeq: Int64?

    public init(hubAcknowledged: Int64, expectedSeq: Int64?) {
        self.hubAcknowledged = hubAcknowledged
        self.expectedSeq = expectedSeq
    }

    enum CodingKeys: String, CodingKey {
        case hubAcknowledged = "hub_acknowledged"
        case expectedSeq = "expected_seq"
    }
}

/// One till of the store as the hub knows it.
public struct HubTill: Codable, Hashable, Sendable {
    /// The till's ledger name (`0042.3`).
    public var ledger: String
    public var report: TillReport?
    public var lastSeenMilliseconds: Int64?
    public var hubAcknowledged: Int64
    public var headOfficeAcknowledged: Int64
    /// Why head office refuses this till (revoked, another ledger file); nil when it does not.
    public var refused: String?

    public init(
        ledger: String, report: TillReport?, lastSeenMilliseconds: Int64?, hubAcknowledged: Int64,
        headOfficeAcknowledged: Int64,
        refused: String? = nil
    ) {
        self.refused = refused
        self.ledger = ledger
        self.report = report
        self.lastSeenMilliseconds = lastSeenMilliseconds
        self.hubAcknowledged = hubAcknowledged
        self.headOfficeAcknowledged = headOfficeAcknowledged
    }

    enum CodingKeys: String, CodingKey {
        case ledger, report, refused
        case lastSeenMilliseconds = "last_seen_ms"
        case hubAcknowledged = "hub_acknowledged"
        case headOfficeAcknowledged = "head_office_acknowledged"
    }
}

/// One entry of another till of the store.
public struct HubEntry: Codable, Hashable, Sendable {
    public var ledger: String
    public var entry: SyncEntry

    public init(ledger: String, entry: SyncEntry) {
        self.ledger = ledger
        self.entry = entry
    }
}

/// `GET /v1/hub/ledgers/{ledger}/updates?since=CURSOR`: the store's other tills' entries after the cursor,
/// how far head office holds each till's entries, and every till of the store.
public struct HubUpdates: Codable, Hashable, Sendable {
    public var entries: [HubEntry]
    public var cursor: Int64
    public var more: Bool
    /// Head office's mark per till ledger, as the hub knows it.
    public var headOfficeMarks: [String: Int64]
    public var tills: [HubTill]
    /// The caller's entries the hub holds.
    public var hubAcknowledged: Int64
    /// Tills head office refuses for good (revoked, another ledger file): their entries no longer count.
    public var withdrawn: [String]?
    /// The hub's generation (new at each start of its daemon): cursors of another generation mean nothing.
    public var hubGeneration: String?

    public init(
        entries: [HubEntry], cursor: Int64, more: Bool, headOfficeMarks: [String: Int64], tills: [HubTill],
        hubAcknowledged: Int64, withdrawn: [String]? = nil
    ) {
        self.withdrawn = withdrawn
        self.entries = entries
        self.cursor = cursor
        self.more = more
        self.headOfficeMarks = headOfficeMarks
        self.tills = tills
        self.hubAcknowledged = hubAcknowledged
    }

    enum CodingKeys: String, CodingKey {
        case entries, cursor, more, tills, withdrawn
        case hubGeneration = "hub_generation"
        case headOfficeMarks = "head_office_marks"
        case hubAcknowledged = "hub_acknowledged"
    }

    /// The most entries one page carries.
    public static let maximumEntries = 1_000
}

/// `POST /v1/hub/ledgers/{ledger}/holds`: a till about to redeem asks the hub to hold the points (0: release),
/// giving the member as it sees them: their cards, its balance and the hub cursor it has read up to.
public struct HubHoldRequest: Codable, Hashable, Sendable {
    public var cards: [String]
    public var balance: Int64
    public var cursor: Int64
    public var points: Int64
    public var receipt: String

    public init(cards: [String], balance: Int64, cursor: Int64, points: Int64, receipt: String) {
        self.cards = cards
        self.balance = balance
        self.cursor = cursor
        self.points = points
        self.receipt = receipt
    }
}

/// The hub's answer to a hold: `held`, or `refused` with the points `available` across the store's tills.
public struct HubHoldResult: Codable, Hashable, Sendable {
    public var outcome: String
    public var available: Int64?

    public init(outcome: String, available: Int64? = nil) {
        self.outcome = outcome
        self.available = available
    }

    public static let held = "held"
    public static let refused = "refused"
    public static let blocked = "blocked"
}
