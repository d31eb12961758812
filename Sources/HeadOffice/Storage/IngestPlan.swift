import Foundation
import LoyaltyCore
import SyncProtocol

/// What one batch changes, decided without I/O from the store's acknowledged sequence and the
/// already-stored entries the batch repeats. Both drivers execute the same plan.
struct IngestPlan {
    /// Entries to store, contiguous from `acknowledgedBefore + 1`.
    var newEntries: [SyncEntry]
    var duplicates: Int
    var acknowledgedAfter: Int64
    /// Set when the batch left a gap: the sequence head office expects next.
    var expectedSeq: Int64?
    /// The batch starts beyond head office's mark + 1: the store was acknowledged further than head
    /// office now remembers, so head office's history was rewound (restored from a backup).
    var storeIsAhead = false
    /// The times tills stated for new entries dated ahead of head office's clock, by seq: such an entry counts
    /// from its arrival (``countedAt(_:receivedAt:)``), and a resend compares with what the till stated.
    var statedAtMilliseconds: [Int64: Int64] = [:]

    /// How far ahead of head office's clock a till's entry may be dated and still count at its own time
    /// (clocks drift by seconds; a till set a day or a year ahead does not sell in the future).
    static let maximumClockAheadMilliseconds: Int64 = 15 * 60_000

    /// When an entry stated at `stated` and received at `receivedAt` counts at head office.
    /// The entry's time by head office's clock: what the till stated, moved by the correction it learnt after
    /// (``SyncEntry/clockCorrectionMilliseconds``, at most a week either way; beyond, the stated time stands).
    static func correctedTime(of entry: SyncEntry) -> Int64 {
        guard let correction = entry.clockCorrectionMilliseconds, correction.magnitude <= 7 * 86_400_000 else {
            return entry.createdAtMilliseconds
        }
        let (time, overflow) = entry.createdAtMilliseconds.addingReportingOverflow(correction)
        return overflow || time < 0 ? entry.createdAtMilliseconds : time
    }

    static func countedAt(_ stated: Int64, receivedAt: Int64) -> Int64 {
        stated > receivedAt &+ maximumClockAheadMilliseconds ? receivedAt : stated
    }

    /// - Parameters:
    ///   - acknowledged: the store's contiguous acknowledged sequence before this batch.
    ///   - stored: entries already stored among the batch's sequences (by seq).
    ///   - receivedAt: head office's clock (ms since 1970).
    ///   - notBefore: the time of the store's newest entry as counted (``LedgerTimeFloor``).
    static func make(
        acknowledged: Int64, batch: [SyncEntry], stored: [Int64: SyncEntry], receivedAt: Int64,
        notBefore: Int64? = nil
    ) throws(IngestRefusal) -> IngestPlan {
        var seen = Set<Int64>()
        for entry in batch {
            if let problem = entry.problem { throw IngestRefusal(kind: .invalid, message: problem) }
            try HeadOfficeCards.refusePaymentCard(entry.card, context: "entry \(entry.seq)")
            if let joins = entry.joinsCard {
                try HeadOfficeCards.refusePaymentCard(joins, context: "entry \(entry.seq)")
            }
            if let referrer = entry.referredBy {
                try HeadOfficeCards.refusePaymentCard(referrer, context: "entry \(entry.seq)")
            }
            // Every free-text field goes through the one check the till applies to a receipt. Ids shaped
            // like UUIDs are a till's own (older tills drew them at random: a false match would refuse the
            // store's stream for ever), so they are left out of the check; any other id goes through it.
            if let birthday = entry.memberBirthday, (try? CalendarDate(parsing: birthday)) == nil {
                throw IngestRefusal(
                    kind: .invalid, message: "entry \(entry.seq): member_birthday is not a real YYYY-MM-DD date")
            }
            let freeText = [
                ("receipt", entry.receipt), ("member_name", entry.memberName),
                ("reason", entry.reason.map(MachineToken.withoutUUIDs)), ("coupon_code", entry.couponCode),
                ("priced_tier", entry.pricedTier),
                ("id", MachineToken.isUUIDShaped(entry.id) ? nil : entry.id),
            ]
            for (field, text) in freeText where text.map(PaymentCardDetector.mentionsPaymentCard) == true {
                throw IngestRefusal(
                    kind: .invalid, message: "entry \(entry.seq): \(field) holds a bank card number; it is not stored")
            }
            guard seen.insert(entry.seq).inserted else {
                throw IngestRefusal(kind: .invalid, message: "seq \(entry.seq) appears twice in the batch")
            }
        }
        var plan = IngestPlan(newEntries: [], duplicates: 0, acknowledgedAfter: acknowledged, expectedSeq: nil)
        if let first = batch.map(\.seq).min(), first > acknowledged + 1 { plan.storeIsAhead = true }
        for entry in batch.sorted(by: { $0.seq < $1.seq }) {
            if entry.seq <= plan.acknowledgedAfter {
                let existing = stored[entry.seq] ?? plan.newEntries.first { $0.seq == entry.seq }
                guard let existing else {
                    throw IngestRefusal(kind: .invalid, message: "seq \(entry.seq) is acknowledged but not stored")
                }
                if let difference = existing.difference(from: entry) {
                    throw IngestRefusal(
                        kind: .conflict,
                        message:
                            "entry \(entry.seq) is already stored with different content (\(difference)); a store's entries never change"
                    )
                }
                plan.duplicates += 1
            } else if entry.seq == plan.acknowledgedAfter + 1 {
                var entry = entry
                var counted = countedAt(correctedTime(of: entry), receivedAt: receivedAt)
                // Never before the entry before it (``LedgerTimeFloor``).
                let floor = max(notBefore ?? counted, plan.newEntries.last?.createdAtMilliseconds ?? counted)
                if counted < floor { counted = min(floor, receivedAt) }
                if counted != entry.createdAtMilliseconds {
                    plan.statedAtMilliseconds[entry.seq] = entry.createdAtMilliseconds
                    entry.createdAtMilliseconds = counted
                }
                plan.newEntries.append(entry)
                plan.acknowledgedAfter = entry.seq
            } else {
                // A gap: keep what is contiguous, ask for the rest from the mark.
                plan.expectedSeq = plan.acknowledgedAfter + 1
                break
            }
        }
        return plan
    }

    /// The points of the entries this batch stores (the store's kept total moves by them). Each entry's points are
    /// bounded (±10¹²) and a batch holds at most ``PushBatch/maximumEntries``: the sum cannot overflow.
    var newPoints: Int64 { newEntries.reduce(0) { $0 + $1.points } }

    /// Cards added to existing members by this batch: (new card, a card of the member it joins).
    var addedCards: [(card: String, joins: String)] {
        newEntries.compactMap { entry in entry.joinsCard.map { (entry.card, $0) } }
    }

    /// New `enroll` entries: the member profiles this batch brings.
    /// (A card added to a member is not an enrolment of whoever head office holds that card on.)
    var enrolments: [SyncEntry] { newEntries.filter { $0.kind == "enroll" && $0.joinsCard == nil } }

    /// New `profile` entries, in sequence order: the newest name or birthday wins.
    var profileChanges: [SyncEntry] { newEntries.filter { $0.kind == "profile" } }

    /// Balance and spend changes per card, sorted by card: every driver touches cards (and takes
    /// their locks) in this one order, so concurrent batches sharing cards cannot deadlock.
    var memberDeltas: [(card: String, points: Int64, spendMinor: Int64)] {
        var totals: [String: (Int64, Int64)] = [:]
        for entry in newEntries {
            totals[entry.card, default: (0, 0)].0 += entry.points
            totals[entry.card, default: (0, 0)].1 += entry.amountMinor
        }
        return totals.keys.sorted().map { ($0, totals[$0]!.0, totals[$0]!.1) }
    }
}

extension SyncEntry {
    /// The first field that differs, for a 409 that says what.
    func difference(from other: SyncEntry) -> String? {
        let fields: [(String, Bool)] = [
            ("id", id == other.id), ("card", card == other.card), ("kind", kind == other.kind),
            ("points", points == other.points), ("amount_minor", amountMinor == other.amountMinor),
            ("currency", currency == other.currency), ("receipt", receipt == other.receipt),
            ("refers_to_seq", refersToSeq == other.refersToSeq), ("rule_version", ruleVersion == other.ruleVersion),
            ("reason", reason == other.reason), ("created_at_ms", createdAtMilliseconds == other.createdAtMilliseconds),
            ("member_name", memberName == other.memberName),
            ("member_birthday", memberBirthday == other.memberBirthday),
            ("joins_card", joinsCard == other.joinsCard), ("referred_by", referredBy == other.referredBy),
            ("feedback_score", feedbackScore == other.feedbackScore),
            ("coupon_code", couponCode == other.couponCode), ("refers_to_store", refersToStore == other.refersToStore),
            // Entries stored before lines travelled have none: a resend that brings them is the same entry.
            ("lines", lines == nil || lines == other.lines),
            ("returned_lines", returnedLines == nil || returnedLines == other.returnedLines),
            ("earning_base", earningBase == nil || earningBase == other.earningBase),
            ("priced_tier", pricedTier == nil || pricedTier == other.pricedTier),
            ("priced_birthday", pricedBirthday == nil || pricedBirthday == other.pricedBirthday),
            ("points_before_caps", pointsBeforeCaps == nil || pointsBeforeCaps == other.pointsBeforeCaps),
        ]
        return fields.first { !$0.1 }.map { "\($0.0) differs" }
    }
}

/// Tier at head office: by rolling 12-month spend with the standard program until head office
/// pushes its own rules.
enum HeadOfficeProgram {
    static let program = LoyaltyProgram.standard()

    /// A member's tier: the one head office's last review gave (`tiers review`), or higher when the
    /// 12-month figure has reached a higher threshold since (upgrades at once, downgrades only at review).
    static func tier(progress: TierProgress, reviewed: String?, program: LoyaltyProgram) -> String {
        let live = program.tier(for: progress)
        guard let reviewed, let reviewedIndex = program.tiers.firstIndex(where: { $0.name == reviewed }),
            let liveIndex = program.tiers.firstIndex(where: { $0.name == live.name })
        else { return live.name }
        return reviewedIndex > liveIndex ? reviewed : live.name
    }

    /// The program a chain-wide rule judges an event by: the version in force at the event among those
    /// published by then (a version published later with a past valid_from does not re-price what was
    /// decided), or the newer version the till recorded (its clock was behind head office's) when it was in force
    /// at the event's time as counted (found by attack: a till restarted a day fast priced a sale by tomorrow's
    /// version, and head office, which had moved the sale to today, kept it).
    static func deciding(
        _ published: [PublishedProgram], atMilliseconds at: Int64, recordedVersion: Int
    ) -> LoyaltyProgram {
        let then = inForce(
            published.filter { $0.publishedAtMilliseconds <= at }, now: Date(timeIntervalSince1970: Double(at) / 1000))
        guard recordedVersion > then.version,
            let recorded = published.first(where: { $0.program.version == recordedVersion }),
            (recorded.program.validFromMilliseconds ?? 0) <= at
        else { return then }
        return recorded.program
    }

    /// The published version in force at `now`, else the built-in standard.
    static func inForce(_ published: [PublishedProgram], now: Date) -> LoyaltyProgram {
        PublishedProgram.inForce(published, atMilliseconds: now.milliseconds)?.program ?? program
    }
    static let rollingWindowMilliseconds: Int64 = 365 * 24 * 3600 * 1000
    static let nonceLifetimeSeconds: Int64 = 2 * RequestSigning.maximumClockSkewSeconds
}

/// Card checks shared by the drivers.
enum HeadOfficeStores {
    /// `stores add` of a registered store: its tills keep their secret; a new one is a rotation.
    static func alreadyRegistered(_ id: String) -> IngestRefusal {
        IngestRefusal(
            kind: .storeExists,
            message: "store \(id) is already registered and its tills keep their secret; to give it a new secret, "
                + "run `loyalty-hq stores rotate-secret \(id)`; `loyalty-hq stores list` shows every store")
    }
}

enum HeadOfficeCards {
    /// `cards block` of a number no member holds: most likely mistyped.
    static func unknownToBlock(_ card: String) -> IngestRefusal {
        IngestRefusal(
            kind: .unknownCard,
            message: "no member holds the card ending \(card.suffix(4)) at head office: check the number "
                + "(`loyalty-hq member CARD`), "
                + "or pass --force to block a card no store has used yet")
    }

    /// `cards unblock` of a card that is not blocked.
    static func notBlocked(_ card: String) -> IngestRefusal {
        IngestRefusal(kind: .notBlocked, message: "card \(card) is not blocked; nothing changed")
    }

    /// Refuses a number the payment-card detector flags, without repeating it: head office never
    /// stores, logs or sends down a bank card number.
    static func refusePaymentCard(_ card: String, context: String) throws(IngestRefusal) {
        if PaymentCardDetector.isPaymentCard(card) {
            throw IngestRefusal(
                kind: .invalid,
                message: "\(context): the card number looks like a bank card number; it is not stored")
        }
    }
}
