public import Foundation
public import LoyaltyCore
public import SyncProtocol

/// Head office's storage. Two drivers implement it — ``SQLiteHeadOfficeStore`` (zero configuration)
/// and ``PostgresHeadOfficeStore`` (production) — and one test suite runs against both. Server
/// processes keep no state of their own: everything, nonces included, lives here.
public protocol HeadOfficeStore: DashboardFigures {
    /// Creates or upgrades the schema.
    func migrate() async throws
    /// Registers a store with its secret; refuses an id that exists.
    func addStore(id: String, secret: String, now: Date) async throws
    /// The store's secret, or nil for an unknown store.
    func secret(storeId: String) async throws -> String?
    /// What a store's requests may be signed with now: its secret, and during a rotation the previous
    /// one until its time runs out; nil for an unknown store.
    func credentials(storeId: String, now: Date) async throws -> StoreCredentials?
    /// Gives the store `secret`; the previous secret stays valid for `overlapSeconds` (0: at once invalid),
    /// so tills can be given the new one without downtime. Recorded in the audit trail.
    func rotateSecret(storeId: String, secret: String, overlapSeconds: Int64, actor: String, now: Date) async throws
    /// Refuses every request of the store from now on (its entries stay). Recorded in the audit trail.
    func revokeStore(storeId: String, actor: String, reason: String?, now: Date) async throws
    /// Adds an operator's action to the audit trail (for actions whose own storage call has no actor:
    /// a card blocked, an epoch rotated).
    func recordAudit(actor: String, action: String, detail: String, reason: String?, now: Date) async throws
    /// Records a request nonce; false when the store already used it (a replay).
    func useNonce(storeId: String, nonce: String, now: Date) async throws -> Bool
    /// Stores each (store, seq) at most once, in one transaction with the member balances.
    /// - Parameter nonce: the request's nonce, recorded in the same transaction (one commit per
    ///   batch); a nonce used before refuses the batch as a replay.
    func ingest(storeId: String, batch: PushBatch, nonce: String?, now: Date) async throws -> PushResult
    /// Member snapshots and blocked cards changed since `cursor`.
    /// - Parameter storeAcknowledged: the mark the store holds from head office's earlier answers. Beyond
    ///   head office's own mark, it proves head office's history was rewound: the epoch rotates.
    /// - Parameter scope: every changed member, or those the store has served (``PullScope``).
    func updates(
        storeId: String, since cursor: Int64, storeAcknowledged: Int64?, scope: PullScope, now: Date
    ) async throws -> UpdatesPage
    /// Adds the members holding `cards` to the pull of `storeId`'s store (a till met the cards without knowing
    /// them); returns the cards a member holds.
    func markServed(storeId: String, cards: [String], now: Date) async throws -> [String]
    func stores() async throws -> [StoreSummary]
    /// The sale with `receipt` made at another store than `askingStore` (at `soldAt` when named), with
    /// what returns at every store but the asking one took of it: a return at any store.
    func saleElsewhere(receipt: String, soldAt: String?, askingStore: String) async throws -> SaleLookup
    func member(card: String, now: Date) async throws -> HeadOfficeMember?
    func overdrafts() async throws -> [Overdraft]
    /// Members whose balance is below zero, by first card (at most ``MemberBelowZero/maximumListed``): an overdraft, or
    /// head office's own correction that took back more than was left (a sale repriced, a bonus paid twice).
    func membersBelowZero() async throws -> [MemberBelowZero]
    /// Blocks a card everywhere after the stores' next pull. A card no member holds is refused
    /// (`unknown_card`: a mistyped number) unless `force` (a card lost before any store used it).
    /// Returns false when the card was blocked already (nothing changes).
    func blockCard(_ card: String, force: Bool, now: Date) async throws -> Bool
    /// Lifts a card's block: stores accept it again after their next pull. Refused for an unknown card
    /// or one that is not blocked.
    func unblockCard(_ card: String, now: Date) async throws
    /// A lost card: `old` is blocked everywhere after the stores' next pull, `new` joins its member and
    /// carries the balance and history. Refused when `old` is unknown or `new` already has a member.
    func replaceCard(_ old: String, with new: String, actor: String, reason: String?, now: Date) async throws
    /// One person held two member records: `other`'s cards, entries (store, seq and id unchanged),
    /// balance and spend move to `keep`'s member; stores converge at their next pull.
    func mergeMembers(keep: String, other: String, actor: String, reason: String?, now: Date) async throws
    /// Sets the chain's member-card ranges that every store pulls (nil clears them).
    func setMemberRanges(_ ranges: [String]?, actor: String, now: Date) async throws
    /// The chain's member-card ranges, if set.
    func memberRanges() async throws -> [String]?
    /// Every member head office knows, with profile and purchase count, ordered by first card.
    func memberList() async throws -> [MemberSummary]
    /// The audit trail of operator actions (card replacements, merges), oldest first.
    func auditTrail() async throws -> [AuditRecord]
    /// Σ points and entry count per store, for reconciliation.
    func totals() async throws -> [StoreTotal]
    /// Head office's current epoch (see ``UpdatesPage/epoch``).
    func epoch() async throws -> String
    /// Starts a new epoch: every store pulls everything again at its next sync. Run after restoring
    /// the database from a backup. Returns the new epoch.
    func rotateEpoch(now: Date) async throws -> String

    // MARK: Analytics (see `Analytics/`)

    /// The segment and model settings (defaults for keys never set).
    func analyticsSettings() async throws -> AnalyticsSettings
    /// Stores one setting, checked, in the audit trail; returns all settings.
    func setAnalyticsSetting(
        _ key: String, to value: String, actor: String, now: Date
    ) async throws -> AnalyticsSettings
    /// Every member who existed on `asOfDay` with their sales folded in, ordered by card. Streams the
    /// history: memory grows with members, not with entries.
    func memberFacts(asOfDay: Int, calendar: ChainCalendar) async throws -> [MemberFacts]
    /// Each member's points earned from entries in `[fromMilliseconds, untilMilliseconds)`: earn and
    /// bonus entries less the earned points refunds took back (what tiers count under
    /// ``TierBasis/points``). Members without such entries are left out.
    func pointsEarned(fromMilliseconds: Int64, untilMilliseconds: Int64) async throws -> [Int64: Int64]
    /// Adds a history file's sales and refunds, all or nothing; throws ``HistoryImportError`` naming
    /// every line that conflicts with what head office holds.
    func importHistory(_ rows: [HistoryRow], actor: String, now: Date) async throws -> HistoryImportSummary
    /// Replaces every member's published flags with `flags` (members not named get none); members
    /// whose flags changed reach the stores with their next pull. Returns how many changed.
    func publishFlags(_ flags: [Int64: [String]], actor: String, now: Date) async throws -> Int

    // MARK: Program versions (see `Program/`)

    /// Stores `program` as the next version (2, 3, ...; version 1 is the built-in standard) and
    /// returns it with its number. Stores receive it with their next pull and switch at its valid_from.
    /// The audit trail keeps who published it and why.
    func publishProgram(
        _ definition: ProgramDefinition, actor: String, reason: String?, now: Date
    ) async throws -> PublishedProgram
    /// Every published version, oldest first.
    func programs() async throws -> [PublishedProgram]
    /// Stores the tiers of a review (`tiers review`); members whose tier changed reach the stores
    /// with their next pull. Returns how many changed.
    func publishReviewedTiers(_ tiers: [Int64: String], actor: String, now: Date) async throws -> Int

    // MARK: Head office's own entries (see `Points/`)

    /// Writes head office's own entries (expiry, referral bonuses), each at most once by its key, moving
    /// the members' balances and judging their overdrafts again from the earliest entry's time; the members reach the
    /// stores with their next pull. Returns how many were new.
    func issue(_ entries: [IssuedEntryRequest], actor: String, now: Date) async throws -> Int
    /// Folds every member's points history (every store's entries and head office's own, in time order)
    /// into a result, one member at a time: memory grows with one member's history, not everyone's.
    ///
    /// With `resuming`, a member whose lots an expiry run kept (at or before `asOfMilliseconds`, under the same
    /// lifetime) comes with those lots (`resumed`) and only the events after them; a member marked by a late entry,
    /// and every member when no such lots are kept, comes with the whole history. Answers what the fold started from.
    func foldPointHistories<Result: Sendable>(
        resuming: PointLotsResumption?, into initial: Result,
        _ step: @Sendable (inout Result, MemberPointHistory) throws -> Void
    ) async throws -> (Result, PointLotsFold)
    /// Runs `body` while no other expiry run does, in any process: two runs for different days at once each took
    /// the same points (found by attack). Throws ``ExpiryRefusal`` at once when another run holds the lock; a run
    /// that dies lets go of it.
    func withExpiryRunLock<T: Sendable>(_ body: () async throws -> T) async throws -> T
    /// Before a run's fold: entries dated at or before `checkpointMilliseconds` that arrive from now on mark their
    /// member; waits until writers that may have missed this are done. Answers the generation of marks the fold
    /// settles, or nil when those writers did not finish within ``PointLotCheckpoints/writerWaitMilliseconds``.
    func prepareKeptPointLots(checkpointMilliseconds: Int64) async throws -> Int64?
    /// Keeps the members' lots as at `checkpointMilliseconds` and settles the marks of
    /// generations up to `settlingGeneration`. After a fold that read every history, `lots` has every member's.
    /// Writes nothing and answers false when another run kept lots since `fold` read them.
    func keepPointLots(
        _ lots: [KeptPointLots], checkpointMilliseconds: Int64, lifetimeMilliseconds: Int64, after fold: PointLotsFold,
        settlingGeneration: Int64
    ) async throws -> Bool
    /// The point histories (every store's entries and head office's own, in time order) of the members
    /// holding `cards` (at most ``maximumMembersPerReconciliation``); with `expiredOnly`, only of members
    /// whose points an expiry run touched.
    func pointHistories(cards: [String], expiredOnly: Bool) async throws -> [MemberPointHistory]
    /// Withdraws the member's recorded overdrafts (entries `store:seq`): in sale order they never overdrew.
    /// The member stays flagged while any other overdraft stands.
    func withdrawOverdrafts(memberId: Int64, entries: [String]) async throws
    /// Head office's own entry written under `idempotencyKey`, if any (a repeated `members adjust --key`).
    func issuedEntry(idempotencyKey: String) async throws -> IssuedEntryRequest?
    /// Referred members whose first sale has reached head office and whose referral bonus is not given.
    func pendingReferrals() async throws -> [PendingReferral]
    /// Every use of a coupon used more than once: two stores accepted it while offline (like an
    /// overdraft, the fact stands and is reported).
    func couponDoubleUses() async throws -> [CouponUse]
    /// What decides the once-per-member grants of the members holding `cards`.
    func grantFacts(cards: [String]) async throws -> [MemberGrantFacts]
    /// Each sale's member with their tier floor and the 12-month figure up to the sale.
    func tierFigures(at sales: [(card: String, atMilliseconds: Int64)]) async throws -> [TierFigureAtSale]
    /// Raises members' tier floors (kept until the next review); they reach the stores with their next pull.
    func raiseTierFloors(_ floors: [Int64: String]) async throws
    /// The coupons of the members holding `cards` as head office knows them, by member.
    func coupons(cards: [String]) async throws -> [Int64: [CouponState]]
    /// Withdraws coupons (voided at every store after its next pull), each once; returns how many were new.
    func withdrawCoupons(
        _ coupons: [(memberId: Int64, code: String)], reason: String, actor: String, now: Date
    ) async throws -> Int
    /// What decides the per-day cap of the members holding `cards`.
    func dayCapFacts(cards: [String]) async throws -> [MemberDayCapFacts]
    /// What the sales of the members holding `cards` are priced again from (``reconcileSalePrices(cards:actor:now:)``).
    func salePricingFacts(cards: [String]) async throws -> [MemberSaleFacts]
    /// What the early-visit coupons of the members holding `cards` are decided from.
    func visitFacts(cards: [String]) async throws -> [MemberVisitFacts]
    /// Keeps each sale's whole repricing difference (`STORE:SEQ`, points) for the day cap.
    func recordSalePrices(_ prices: [(saleKey: String, fullDelta: Int64)]) async throws
    /// Records coupons head office issues (each code once) and re-sends their members at the next pull.
    func issueCoupons(_ coupons: [HeadOfficeCouponIssue], actor: String, now: Date) async throws -> Int
    /// The sales of the members holding `cards` that another store returned, with every return of them.
    func returnFacts(cards: [String]) async throws -> [SaleReturnFacts]
    /// Records, per sale (store, seq), the refunded amount that counted a line twice (0: none).
    func recordReturnOverlaps(_ overlaps: [(storeId: String, seq: Int64, amountMinor: Int64)]) async throws
    /// Head office's reconciling corrections, newest first.
    func reconciliations() async throws -> [ReconciliationRecord]
    /// Cards a till added to one member while head office holds them on another, not resolved yet.
    func cardConflicts() async throws -> [CardConflict]
    /// Marks the open conflicts of `card` resolved by an operator (no longer listed); returns how many.
    func resolveCardConflicts(card: String, now: Date) async throws -> Int
}

extension HeadOfficeStore {
    /// Publishes a program with no reason in the audit trail (scripts and tests).
    public func publishProgram(
        _ definition: ProgramDefinition, actor: String, now: Date
    ) async throws -> PublishedProgram {
        try await publishProgram(definition, actor: actor, reason: nil, now: now)
    }
}

/// A program version as head office published it.
public struct PublishedProgram: Hashable, Sendable, Codable {
    public var program: LoyaltyProgram
    public var publishedAtMilliseconds: Int64
    public var publishedBy: String

    public init(program: LoyaltyProgram, publishedAtMilliseconds: Int64, publishedBy: String) {
        self.program = program
        self.publishedAtMilliseconds = publishedAtMilliseconds
        self.publishedBy = publishedBy
    }

    /// The published version in force at `milliseconds` (the highest whose valid_from has come), nil
    /// before the first one: the built-in standard program is then in force.
    public static func inForce(_ published: [PublishedProgram], atMilliseconds milliseconds: Int64) -> PublishedProgram?
    {
        published.last { ($0.program.validFromMilliseconds ?? 0) <= milliseconds }
    }

    /// What a pull carries: the version in force at `now` and every later one.
    static func releases(_ published: [PublishedProgram], now: Date) -> [ProgramRelease]? {
        guard !published.isEmpty else { return nil }
        let nowMilliseconds = now.milliseconds
        let inForce = inForce(published, atMilliseconds: nowMilliseconds)
        let later = published.filter { ($0.program.validFromMilliseconds ?? 0) > nowMilliseconds }
        return ([inForce].compactMap { $0 } + later).map {
            ProgramRelease(
                version: $0.program.version, validFromMilliseconds: $0.program.validFromMilliseconds ?? 0,
                document: ProgramDocument.encode($0.program))
        }
    }
}

/// The JSON form of a program version, the same the agent stores.
enum ProgramDocument {
    static func encode(_ program: LoyaltyProgram) -> String { program.document() }

    /// The chain's coupon key: the previous version's, so a member's coupon code never changes, or a
    /// new random one for the first published version.
    static func couponKey(following previous: String?) -> String {
        previous.flatMap { try? decode($0).couponKey } ?? MachineToken.hex128()
    }

    static func decode(_ text: String) throws -> LoyaltyProgram {
        try JSONDecoder().decode(LoyaltyProgram.self, from: Data(text.utf8))
    }
}

/// When head office rotates its epoch by itself: on evidence that its history was rewound (a store
/// holds an acknowledged mark beyond head office's, or pulls with a cursor beyond its change counter).
enum EpochPolicy {
    /// Evidence within this long of the last rotation does not rotate again: one restore, one rotation,
    /// however many stores report it.
    static let minimumMillisecondsBetweenRotations: Int64 = 10 * 60 * 1000

    static func newEpoch() -> String { MachineToken.hex128() }

    /// The audit trail's detail when a store's mark rotated the epoch (found by attack: one store's request
    /// rotated the chain's epoch, and every store pulled everything again, with no trace of why).
    static func rotationByStore(_ storeId: String) -> String {
        "store \(storeId) acknowledged entries head office does not hold (restored from a backup?): new epoch, every "
            + "store pulls everything again"
    }
}

/// A store as head office sees it.
public struct StoreSummary: Codable, Hashable, Sendable {
    public var storeId: String
    public var acknowledgedSeq: Int64
    /// Milliseconds since 1970 of the last authenticated request, if any.
    public var lastContactMilliseconds: Int64?
    /// Entries the store said were still waiting, at its last push.
    public var reportedBacklog: Int64
}

/// A member's one true balance across stores.
public struct HeadOfficeMember: Codable, Hashable, Sendable {
    public struct StoreShare: Codable, Hashable, Sendable {
        public var storeId: String
        public var points: Int64
        public var spendMinor: Int64
        public var entries: Int64
    }

    public var card: String
    public var cards: [String]
    public var balance: Int64
    public var tier: String
    public var rollingSpendMinor: Int64
    /// Points earned over the same 12 months (what tiers count when the program says `tiers_by: points`).
    public var rollingPointsEarned: Int64
    public var overdrawn: Bool
    public var blocked: Bool
    public var stores: [StoreShare]
    /// The profile from the first enrolment that reached head office (nil before one did).
    public var name: String? = nil
    public var birthday: String? = nil
    public var enrolledStore: String? = nil
    public var enrolledAtMilliseconds: Int64? = nil
    /// Head office's number for the member (stores number theirs apart).
    public var memberId: Int64 = 0
}

/// A redemption that took a member below zero across stores (both happened offline).
public struct Overdraft: Codable, Hashable, Sendable {
    public var card: String
    public var storeId: String
    public var seq: Int64
    public var receipt: String
    public var points: Int64
    public var balanceAfter: Int64
    public var atMilliseconds: Int64
}

public struct StoreTotal: Codable, Hashable, Sendable {
    public var storeId: String
    public var entries: Int64
    public var points: Int64

    public init(storeId: String, entries: Int64, points: Int64) {
        self.storeId = storeId
        self.entries = entries
        self.points = points
    }
}

/// Head office refuses a batch; nothing was stored.
public struct IngestRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Unknown store (404).
        case unknownStore = "unknown_store"
        /// An entry's (store, seq) exists with different content (409).
        case conflict
        /// A malformed entry (400).
        case invalid = "invalid_entry"
        /// The request's nonce was used before (401).
        case replayed
        /// The store already has entries from another ledger file (409).
        case ledgerConflict = "ledger_conflict"
        /// Head office has no such card (operator commands).
        case unknownCard = "unknown_card"
        /// The card already belongs to a member (operator commands).
        case cardInUse = "card_in_use"
        /// Both cards belong to the same member (operator commands).
        case sameMember = "same_member"
        /// The store id is registered already (`stores add`).
        case storeExists = "store_exists"
        /// `cards unblock` of a card that is not blocked.
        case notBlocked = "not_blocked"
    }

    public var kind: Kind
    public var message: String
    public var description: String { message }
}

extension HeadOfficeStore {
    /// Blocks `card` whether or not a member holds it (tests and set-up scripts).
    public func blockCard(_ card: String, now: Date) async throws {
        _ = try await blockCard(card, force: true, now: now)
    }

    /// ``updates(storeId:since:storeAcknowledged:scope:now:)`` without the store's mark, every changed member.
    public func updates(storeId: String, since cursor: Int64, now: Date) async throws -> UpdatesPage {
        try await updates(storeId: storeId, since: cursor, storeAcknowledged: nil, scope: .chain, now: now)
    }

    /// ``updates(storeId:since:storeAcknowledged:scope:now:)`` with every changed member.
    public func updates(storeId: String, since cursor: Int64, storeAcknowledged: Int64?, now: Date) async throws -> UpdatesPage {
        try await updates(storeId: storeId, since: cursor, storeAcknowledged: storeAcknowledged, scope: .chain, now: now)
    }
}

/// Which ledger file writes a store: recorded on its first batch, refused when another claims it.
enum LedgerBinding {
    /// What to store for the store's ledger, or a refusal.
    /// - Parameters:
    ///   - recorded: the ledger id head office holds for the store (nil before the first one).
    ///   - presented: the ledger id of this batch (nil from agents older than ledger ids).
    ///   - acknowledged: the store's acknowledged sequence: a store with entries keeps its ledger.
    static func resolve(
        storeId: String, recorded: String?, presented: String?, acknowledged: Int64
    ) throws(IngestRefusal) -> String? {
        guard let presented, presented != recorded else { return recorded }
        guard presented.count <= 64, !presented.isEmpty else {
            throw IngestRefusal(kind: .invalid, message: "ledger_id must be 1 to 64 characters")
        }
        if let recorded, recorded != presented, acknowledged > 0 {
            throw IngestRefusal(
                kind: .ledgerConflict,
                message:
                    "store \(storeId) already has \(acknowledged) entries from another ledger file (another box, or a "
                    + "replaced ledger); nothing was stored. Give this box its own store id (`loyalty-hq stores add`), "
                    + "or keep using the original ledger file")
        }
        return presented
    }
}

/// One operator action at head office: who, when, what, why.
public struct AuditRecord: Codable, Hashable, Sendable {
    public var atMilliseconds: Int64
    public var actor: String
    public var action: String
    public var detail: String
    public var reason: String?

    public init(atMilliseconds: Int64, actor: String, action: String, detail: String, reason: String?) {
        self.atMilliseconds = atMilliseconds
        self.actor = actor
        self.action = action
        self.detail = detail
        self.reason = reason
    }
}

extension HeadOfficeCards {
    /// The refusals of a card replacement, shared by the drivers.
    static func unknown(_ card: String) -> IngestRefusal {
        IngestRefusal(
            kind: .unknownCard,
            message:
                "head office has no card ending \(card.suffix(4)); check the number (it must have synced from a store)")
    }

    static func inUse(_ card: String) -> IngestRefusal {
        IngestRefusal(
            kind: .cardInUse,
            message: "card ending \(card.suffix(4)) already belongs to a member; hand out an unused card")
    }
}

extension HeadOfficeCards {
    static func sameMember() -> IngestRefusal {
        IngestRefusal(kind: .sameMember, message: "both cards already belong to the same member: nothing to merge")
    }
}

/// One member in `report members`: who, where they enrolled, what they have and how often they bought.
public struct MemberSummary: Codable, Hashable, Sendable {
    public var card: String
    public var name: String?
    public var birthday: String?
    public var enrolledStore: String?
    public var enrolledAtMilliseconds: Int64?
    public var balance: Int64
    /// Sales (earn entries) across every store: 0 for a member who enrolled and never bought.
    public var purchases: Int64

    public init(
        card: String, name: String?, birthday: String?, enrolledStore: String?, enrolledAtMilliseconds: Int64?,
        balance: Int64,
        purchases: Int64
    ) {
        self.card = card
        self.name = name
        self.birthday = birthday
        self.enrolledStore = enrolledStore
        self.enrolledAtMilliseconds = enrolledAtMilliseconds
        self.balance = balance
        self.purchases = purchases
    }
}

/// The chain's member-card ranges, stored as one comma-separated setting.
enum MemberRangeSetting {
    static func encode(_ ranges: [String]?) -> String? { ranges.map { $0.joined(separator: ",") } }
    static func decode(_ text: String?) -> [String]? {
        text.map { $0.split(separator: ",").map(String.init) }.flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// The member list (`report members`): purchases as the snapshot counts them, imported sales included (found by
/// attack: the list counted only the stores' sales, the snapshot both).
enum MemberListQuery {
    static let sql = """
        SELECT m.first_card, m.name, m.birthday, m.enrolled_store, m.enrolled_at_ms, m.balance,
               \(MemberLedgerTotals.purchases(member: "m.id")) AS purchases
        FROM hq_members m WHERE \(AnalyticsQueries.isMember) ORDER BY m.first_card
        """
}

/// A member below zero at head office.
public struct MemberBelowZero: Codable, Hashable, Sendable {
    public var card: String
    public var balance: Int64

    public init(card: String, balance: Int64) {
        self.card = card
        self.balance = balance
    }

    /// The most one report lists.
    public static let maximumListed = 10_000
    static let sql =
        "SELECT first_card, balance FROM hq_members WHERE balance < 0 ORDER BY first_card LIMIT \(maximumListed)"
}
