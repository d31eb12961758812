/// One store ledger entry on the wire. The store's (storeId, seq) is its identity at head office.
public struct SyncEntry: Codable, Hashable, Sendable {
    public var seq: Int64
    /// Globally unique id (UUID).
    public var id: String
    public var card: String
    public var kind: String
    public var points: Int64
    public var amountMinor: Int64
    public var currency: String
    /// The POS receipt reference: the sale's idempotency key.
    public var receipt: String
    public var refersToSeq: Int64?
    public var ruleVersion: Int
    public var reason: String?
    /// The store's wall clock, milliseconds since 1970 (UTC).
    public var createdAtMilliseconds: Int64
    /// An `enroll` entry's profile: the member's name and birthday (YYYY-MM-DD), if given.
    public var memberName: String?
    public var memberBirthday: String?
    /// An `enroll` entry for a card added to an existing member: a card that member already holds.
    public var joinsCard: String?
    /// An `enroll` entry of a new member who was referred: the referring member's card.
    public var referredBy: String?
    /// A `profile` entry recording the member's answer to the satisfaction question, 1 (poor) to 5.
    public var feedbackScore: Int?
    /// A `coupon` entry's coupon (`NAME-CARD`); `reason` is `issued`, `used` or `voided`.
    public var couponCode: String?
    /// A `reverse` entry of a return taken at this store for a sale made at another: the store that sold
    /// (`refers_to_seq` is then that store's sequence). Absent when the sale is this store's own.
    public var refersToStore: String?
    /// An `earn` entry's lines, when the sale was recorded with lines.
    public var lines: [SyncSaleLine]?
    /// A `reverse` entry's returned lines, when the return was made by line.
    public var returnedLines: [SyncLineReturn]?
    /// An `earn` entry's base points (lines × categories × points per unit, rounded) and the tier the till priced
    /// it at: head office prices the sale again at the member's chain-wide tier and the time it counts.
    public var earningBase: Int64?
    public var pricedTier: String?
    /// Whether the till priced the sale with the birthday month (it knew the birthday and it was the month).
    public var pricedBirthday: Bool?
    /// What the sale earned before the per-sale and per-day caps (with `earning_base`): a till that capped it from
    /// a stale view of the member's day is topped up by head office.
    public var pointsBeforeCaps: Int64?
    /// The till learnt head office's clock after it dated this entry by its own, in the same boot of the machine:
    /// head office's time at the entry's writing minus `created_at_ms`. Head office counts the entry at the sum
    /// (never after its arrival); `created_at_ms` stays what the till stated. Absent when none is known.
    public var clockCorrectionMilliseconds: Int64?

    public init(
        seq: Int64, id: String, card: String, kind: String, points: Int64, amountMinor: Int64, currency: String,
        receipt: String, refersToSeq: Int64?, ruleVersion: Int, reason: String?, createdAtMilliseconds: Int64,
        memberName: String? = nil, memberBirthday: String? = nil, joinsCard: String? = nil, referredBy: String? = nil,
        feedbackScore: Int? = nil, couponCode: String? = nil, refersToStore: String? = nil,
        lines: [SyncSaleLine]? = nil,
        returnedLines: [SyncLineReturn]? = nil
    ) {
        self.refersToStore = refersToStore
        self.lines = lines
        self.returnedLines = returnedLines
        self.couponCode = couponCode
        self.feedbackScore = feedbackScore
        self.joinsCard = joinsCard
        self.referredBy = referredBy
        self.memberName = memberName
        self.memberBirthday = memberBirthday
        self.seq = seq
        self.id = id
        self.card = card
        self.kind = kind
        self.points = points
        self.amountMinor = amountMinor
        self.currency = currency
        self.receipt = receipt
        self.refersToSeq = refersToSeq
        self.ruleVersion = ruleVersion
        self.reason = reason
        self.createdAtMilliseconds = createdAtMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case seq, id, card, kind, points, currency, receipt, reason
        case amountMinor = "amount_minor"
        case refersToSeq = "refers_to_seq"
        case ruleVersion = "rule_version"
        case createdAtMilliseconds = "created_at_ms"
        case memberName = "member_name"
        case memberBirthday = "member_birthday"
        case joinsCard = "joins_card"
        case referredBy = "referred_by"
        case feedbackScore = "feedback_score"
        case couponCode = "coupon_code"
        case refersToStore = "refers_to_store"
        case lines
        case returnedLines = "returned_lines"
        case earningBase = "earning_base"
        case pricedTier = "priced_tier"
        case pricedBirthday = "priced_birthday"
        case pointsBeforeCaps = "points_before_caps"
        case clockCorrectionMilliseconds = "clock_correction_ms"
    }

    /// Largest |points| or |amount_minor| head office accepts on one entry.
    public static let maximumMagnitude: UInt64 = 1_000_000_000_000
    /// Rule versions head office can store (a 32-bit column in both drivers).
    public static let ruleVersions: ClosedRange<Int> = 0...Int(Int32.max)

    /// What a coupon entry records.
    public static let couponEvents: Set<String> = ["issued", "used", "voided"]
    public static let kinds: Set<String> = [
        "earn", "redeem", "reverse", "adjust", "bonus", "expire", "enroll", "profile", "coupon",
    ]

    /// The last millisecond of the year 9999: no till writes a later time.
    public static let latestMilliseconds: Int64 = 253_402_300_799_999

    /// Why this entry cannot be a store ledger entry, or nil when it can.
    public var problem: String? {
        if seq < 1 { return "seq \(seq) must be 1 or more" }
        if id.isEmpty || id.count > 64 { return "entry \(seq): id must be 1 to 64 characters" }
        if card.isEmpty || card.count > 40 || !card.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
            return "entry \(seq): card must be 1 to 40 letters or digits"
        }
        if !Self.kinds.contains(kind) {
            return
                "entry \(seq): kind '\(kind.prefix(20))' is not one of \(Self.kinds.sorted().joined(separator: ", "))"
        }
        // `magnitude`, not `abs`: abs(Int64.min) traps, and these values come from the wire.
        if points.magnitude > Self.maximumMagnitude || amountMinor.magnitude > Self.maximumMagnitude {
            return "entry \(seq): points and amount_minor must lie within ±\(Self.maximumMagnitude)"
        }
        if !Self.ruleVersions.contains(ruleVersion) {
            return
                "entry \(seq): rule_version must be \(Self.ruleVersions.lowerBound) to \(Self.ruleVersions.upperBound)"
        }
        if kind == "earn" && (points < 0 || amountMinor <= 0) {
            return "entry \(seq): an earn has points ≥ 0 and an amount > 0"
        }
        if kind == "redeem" && points >= 0 { return "entry \(seq): a redeem has negative points" }
        if currency.count != 3 { return "entry \(seq): currency must be a 3-letter code" }
        if receipt.isEmpty || receipt.count > 64 { return "entry \(seq): receipt must be 1 to 64 characters" }
        if let refersToSeq, refersToSeq < 1 || (refersToStore == nil && refersToSeq >= seq) {
            return "entry \(seq): refers_to_seq must be an earlier entry"
        }
        if let lineProblem { return lineProblem }
        if earningBase != nil || pricedTier != nil || pricedBirthday != nil {
            guard kind == "earn", let earningBase, let pricedTier, earningBase >= 0,
                earningBase.magnitude <= Self.maximumMagnitude, !pricedTier.isEmpty, pricedTier.count <= 64
            else {
                return
                    "entry \(seq): earning_base and priced_tier go together on an earn entry (base ≥ 0, a tier name of 1 to 64 characters)"
            }
        }
        if let pointsBeforeCaps,
            earningBase == nil || pointsBeforeCaps < points
                || pointsBeforeCaps.magnitude > Self.maximumMagnitude
        {
            return "entry \(seq): points_before_caps comes with earning_base, at least the points and at most 10^12"
        }
        if let reason, reason.isEmpty || reason.count > 200 {
            return "entry \(seq): reason must be absent or 1 to 200 characters"
        }
        if createdAtMilliseconds < 0 { return "entry \(seq): created_at_ms is negative" }
        // Found by attack: Int64.max here trapped head office when it turned the time into a date.
        if createdAtMilliseconds > Self.latestMilliseconds {
            return "entry \(seq): created_at_ms is beyond the year 9999"
        }
        if (kind == "enroll" || kind == "profile") && (points != 0 || amountMinor != 0) {
            return "entry \(seq): an enroll or profile entry has 0 points and 0 amount"
        }
        if kind == "profile"
            && (joinsCard != nil || (memberName == nil && memberBirthday == nil && feedbackScore == nil))
        {
            return
                "entry \(seq): a profile entry carries member_name, member_birthday or feedback_score, and no joins_card"
        }
        if let feedbackScore, kind != "profile" || !(1...5).contains(feedbackScore) {
            return "entry \(seq): feedback_score belongs on a profile entry and is 1 to 5"
        }
        if let joinsCard,
            joinsCard.isEmpty || joinsCard.count > 40 || joinsCard == card
                || !joinsCard.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
        {
            return "entry \(seq): joins_card must be another card of 1 to 40 letters or digits"
        }
        if let referredBy,
            kind != "enroll" || joinsCard != nil || referredBy.isEmpty || referredBy.count > 40
                || referredBy == card || !referredBy.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
        {
            return
                "entry \(seq): referred_by belongs on a new member's enroll entry: another card of 1 to 40 letters or digits"
        }
        if kind != "enroll" && kind != "profile" && (memberName != nil || memberBirthday != nil || joinsCard != nil) {
            return "entry \(seq): only an enroll or profile entry carries member_name, member_birthday or joins_card"
        }
        if let memberName, memberName.isEmpty || memberName.count > 100 {
            return "entry \(seq): member_name must be 1 to 100 characters"
        }
        if let memberBirthday, memberBirthday.count != 10 { return "entry \(seq): member_birthday must be YYYY-MM-DD" }
        if kind == "coupon" {
            guard points == 0, amountMinor == 0, let couponCode, (1...64).contains(couponCode.count),
                couponCode.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_" || $0 == "-") }),
                let reason, Self.couponEvents.contains(reason)
            else {
                return
                    "entry \(seq): a coupon entry has 0 points and amount, a coupon_code of 1 to 64 characters (A-Z, 0-9, '-', '_') "
                    + "and reason issued, used or voided"
            }
        } else if couponCode != nil {
            return "entry \(seq): only a coupon entry carries coupon_code"
        }
        return nil
    }
}

/// `POST /v1/stores/{storeId}/batches`: entries after head office's acknowledged sequence.
public struct PushBatch: Codable, Hashable, Sendable {
    public var entries: [SyncEntry]
    /// How many entries the store still had waiting when it sent this batch (for `stores list`).
    public var backlog: Int64
    /// The sending ledger file's identity: head office binds a store to one ledger, so two boxes
    /// cannot write one store's sequence by accident.
    public var ledgerId: String?

    public init(entries: [SyncEntry], backlog: Int64, ledgerId: String? = nil) {
        self.entries = entries
        self.backlog = backlog
        self.ledgerId = ledgerId
    }

    enum CodingKeys: String, CodingKey {
        case entries, backlog
        case ledgerId = "ledger_id"
    }

    /// Bounds on one batch: the agent never sends more, head office refuses more.
    public static let maximumEntries = 1_000
    public static let maximumBodyBytes = 4 * 1024 * 1024
}

/// Head office's answer to a push: its contiguous acknowledged sequence for the store.
public struct PushResult: Codable, Hashable, Sendable {
    /// Every entry up to and including this sequence is stored at head office.
    public var acknowledgedSeq: Int64
    /// Entries newly stored by this batch.
    public var accepted: Int
    /// Entries that were already stored (identical): accepted again, nothing changed.
    public var duplicates: Int
    /// Set when the batch did not continue at `acknowledgedSeq + 1` (a gap): send from here.
    public var expectedSeq: Int64?

    public init(acknowledgedSeq: Int64, accepted: Int, duplicates: Int, expectedSeq: Int64?) {
        self.acknowledgedSeq = acknowledgedSeq
        self.accepted = accepted
        self.duplicates = duplicates
        self.expectedSeq = expectedSeq
    }

    enum CodingKeys: String, CodingKey {
        case accepted, duplicates
        case acknowledgedSeq = "acknowledged_seq"
        case expectedSeq = "expected_seq"
    }
}

/// A member's state at head office, across every store.
public struct MemberSnapshot: Codable, Hashable, Sendable {
    public var card: String
    /// Every card of the member (the first is the one they were first seen with).
    public var cards: [String]
    public var balance: Int64
    public var tier: String
    public var rollingSpendMinor: Int64
    /// The pulling store's own entries up to this sequence are included in `balance`.
    public var includesStoreSeq: Int64
    /// What the cashier should know at the till, from head office's segments (`loyalty-hq segments
    /// publish`): e.g. `welcome_back` (dormant), `at_risk`, `super_user`. Absent when none.
    public var flags: [String]?
    /// Sales the member made across every store (imported history included): a till gives the
    /// first-purchase bonus only to a member with none. Absent from older head offices.
    public var purchases: Int64?
    /// Entries head office itself wrote for the member since the pull's cursor (expiry, referral
    /// bonuses). Already in `balance`; a store records each id once, to show it.
    public var headOfficeEntries: [HeadOfficeEntry]?
    /// The member's coupons (issued by program rules at any store), with head office's view of each.
    public var coupons: [CouponState]?
    /// Points earned in the last 12 months across the chain (what `tiers_by: points` counts), like
    /// `rolling_spend_minor` including the pulling store's entries up to `includes_store_seq`.
    public var rollingPointsEarned: Int64?
    /// The member's birthday (`YYYY-MM-DD`, the newest profile change anywhere): the birthday month earns
    /// the same at every store.
    public var birthday: String?
    /// When the member first enrolled, at any store (ms since 1970): rules counting days since enrolment
    /// give the same answer at every store.
    public var enrolledAtMilliseconds: Int64?
    /// The chain day (`YYYY-MM-DD`, the program's time zone) `dayPoints` counts.
    public var dayPointsDay: String?
    /// Points the member's sales of `dayPointsDay` earned at every store, net of refunds (the per-day cap).
    public var dayPoints: Int64?
    /// Sales at every store since the member first enrolled (the early-visit coupon counts them), like
    /// `rolling_spend_minor` including the pulling store's entries up to `includes_store_seq`.
    public var salesSinceEnrolment: Int64?
    /// The member's name (the newest profile change anywhere): every till shows the same member.
    public var name: String?

    public init(
        card: String, cards: [String], balance: Int64, tier: String, rollingSpendMinor: Int64, includesStoreSeq: Int64,
        flags: [String]? = nil, purchases: Int64? = nil, headOfficeEntries: [HeadOfficeEntry]? = nil,
        coupons: [CouponState]? = nil,
        rollingPointsEarned: Int64? = nil, birthday: String? = nil, enrolledAtMilliseconds: Int64? = nil,
        dayPointsDay: String? = nil, dayPoints: Int64? = nil, salesSinceEnrolment: Int64? = nil, name: String? = nil
    ) {
        self.name = name
        self.salesSinceEnrolment = salesSinceEnrolment
        self.dayPointsDay = dayPointsDay
        self.dayPoints = dayPoints
        self.rollingPointsEarned = rollingPointsEarned
        self.birthday = birthday
        self.enrolledAtMilliseconds = enrolledAtMilliseconds
        self.coupons = coupons
        self.purchases = purchases
        self.headOfficeEntries = headOfficeEntries
        self.card = card
        self.cards = cards
        self.balance = balance
        self.tier = tier
        self.rollingSpendMinor = rollingSpendMinor
        self.includesStoreSeq = includesStoreSeq
        self.flags = flags
    }

    enum CodingKeys: String, CodingKey {
        case card, cards, balance, tier, flags, purchases, coupons, birthday, name
        case rollingSpendMinor = "rolling_spend_minor"
        case includesStoreSeq = "includes_store_seq"
        case headOfficeEntries = "head_office_entries"
        case rollingPointsEarned = "rolling_points_earned"
        case enrolledAtMilliseconds = "enrolled_at_ms"
        case dayPointsDay = "day_points_day"
        case dayPoints = "day_points"
        case salesSinceEnrolment = "sales_since_enrolment"
    }
}

/// A coupon as head office knows it: `open`, `used` (at least once, anywhere) or `voided`.
public struct CouponState: Codable, Hashable, Sendable {
    public var code: String
    public var status: String
    /// The program version whose rule issued it (its discount and validity).
    public var ruleVersion: Int
    public var issuedAtMilliseconds: Int64

    public init(code: String, status: String, ruleVersion: Int, issuedAtMilliseconds: Int64) {
        self.code = code
        self.status = status
        self.ruleVersion = ruleVersion
        self.issuedAtMilliseconds = issuedAtMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case code, status
        case ruleVersion = "rule_version"
        case issuedAtMilliseconds = "issued_at_ms"
    }
}

/// An entry head office wrote for a member itself: points that expired (negative), a correction of
/// expiry for points a refund already took back (positive), or a referral bonus.
public struct HeadOfficeEntry: Codable, Hashable, Sendable {
    /// Globally unique id: a store records each one once, however often it is pulled.
    public var id: String
    /// `expire` or `bonus`.
    public var kind: String
    public var points: Int64
    public var reason: String
    /// When it takes effect, milliseconds since 1970 (UTC).
    public var createdAtMilliseconds: Int64

    public init(id: String, kind: String, points: Int64, reason: String, createdAtMilliseconds: Int64) {
        self.id = id
        self.kind = kind
        self.points = points
        self.reason = reason
        self.createdAtMilliseconds = createdAtMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, points, reason
        case createdAtMilliseconds = "created_at_ms"
    }
}

/// `GET /v1/stores/{storeId}/updates?since=CURSOR`: what changed at head office since the cursor.
public struct UpdatesPage: Codable, Hashable, Sendable {
    public var members: [MemberSnapshot]
    public var blockedCards: [String]
    /// Cards whose block head office lifted (`loyalty-hq cards unblock`) since the cursor; nil when none.
    public var unblockedCards: [String]?
    /// Pass as `since` on the next pull.
    public var cursor: Int64
    /// More changes wait beyond this page.
    public var more: Bool
    /// Head office's acknowledged sequence for this store.
    public var acknowledgedSeq: Int64
    /// Identity of head office's history. Cursors are only meaningful within one epoch: when it
    /// differs from the one the store last saw (head office was restored), the store pulls from 0.
    public var epoch: String
    /// The chain's member-card ranges set at head office (nil: none set; stores use their own or the
    /// in-store EAN-13 default). A card in them earns at a till that has not heard of it yet.
    public var memberRanges: [String]?
    /// The program versions a store needs: the one in force now and any published for later (nil when
    /// head office has published none; stores keep the built-in version 1).
    public var programs: [ProgramRelease]?
    /// For one till of a store with several: head office's acknowledged sequence of each other till of the
    /// store, read before the page's snapshots (they hold at least those entries). Nil for a store's one box.
    public var storeTillMarks: [String: Int64]? = nil
    /// Which members head office sends: `chain` (every member) or `store` (those the store served). A till whose
    /// scope changes pulls again from 0 (nil: a head office that does not say).
    public var pullScope: String? = nil

    public init(
        members: [MemberSnapshot], blockedCards: [String], unblockedCards: [String]? = nil, cursor: Int64, more: Bool,
        acknowledgedSeq: Int64, epoch: String, memberRanges: [String]? = nil, programs: [ProgramRelease]? = nil
    ) {
        self.unblockedCards = unblockedCards
        self.memberRanges = memberRanges
        self.programs = programs
        self.members = members
        self.blockedCards = blockedCards
        self.cursor = cursor
        self.more = more
        self.acknowledgedSeq = acknowledgedSeq
        self.epoch = epoch
    }

    public static let maximumMembers = 500

    enum CodingKeys: String, CodingKey {
        case members, cursor, more, epoch, programs
        case memberRanges = "member_ranges"
        case blockedCards = "blocked_cards"
        case unblockedCards = "unblocked_cards"
        case acknowledgedSeq = "acknowledged_seq"
        case storeTillMarks = "store_till_marks"
        case pullScope = "pull_scope"
    }
}

/// One published program version, as stores receive it.
public struct ProgramRelease: Codable, Hashable, Sendable {
    public var version: Int
    /// When stores switch to it (milliseconds since 1970, UTC).
    public var validFromMilliseconds: Int64
    /// The version's rules as JSON (the agent stores it as is).
    public var document: String

    public init(version: Int, validFromMilliseconds: Int64, document: String) {
        self.version = version
        self.validFromMilliseconds = validFromMilliseconds
        self.document = document
    }

    enum CodingKeys: String, CodingKey {
        case version, document
        case validFromMilliseconds = "valid_from_ms"
    }
}

/// Every 4xx/5xx body.
public struct ErrorBody: Codable, Hashable, Sendable {
    public var error: String
    public var message: String
    public var expectedSeq: Int64?
    /// With `stale`: head office's clock, so a store whose clock is off signs by it and still syncs.
    public var headOfficeTimeMilliseconds: Int64?

    public init(error: String, message: String, expectedSeq: Int64? = nil, headOfficeTimeMilliseconds: Int64? = nil) {
        self.error = error
        self.message = message
        self.expectedSeq = expectedSeq
        self.headOfficeTimeMilliseconds = headOfficeTimeMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case error, message
        case expectedSeq = "expected_seq"
        case headOfficeTimeMilliseconds = "head_office_time_ms"
    }
}
