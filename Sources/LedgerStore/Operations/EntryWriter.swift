import Foundation
import GRDB
import LoyaltyCore

/// A ledger entry about to be appended.
struct NewEntry {
    var memberId: Int64
    var card: String
    var kind: EntryKind
    var points: Int64
    var amountMinorUnits: Int64
    var receipt: String
    var idempotencyKey: String
    var refersToSeq: Int64?
    var ruleVersion: Int
    var reason: String?
    /// The balance the till was told (award/redeem): a retry reports it again.
    var reportedBalance: Int64? = nil
    /// The tier the till was told (award).
    var reportedTier: String? = nil
    /// The profile an enrol entry carries to head office.
    var memberName: String? = nil
    var memberBirthday: String? = nil
    /// For a card added to an existing member: a card that member already holds.
    var joinsCard: String? = nil
    /// For a referred new member: the referring member's card.
    var referredBy: String? = nil
    /// A satisfaction answer (1–5) on a profile entry.
    var feedbackScore: Int? = nil
    /// A coupon entry's coupon.
    var couponCode: String? = nil
    /// An earn entry's ``SaleAnswer`` (JSON), returned again when the sale is retried.
    var saleAnswer: String? = nil
    /// A return of a sale another store made: that store and its sequence of the sale's entry.
    var elsewhereStore: String? = nil
    var elsewhereSeq: Int64? = nil
    /// What such a return took per line (JSON of ``OutboxEntry/ReturnedLine``).
    var returnedLines: String? = nil
}

/// The card as found at the till: its member, their cached balance and tier.
struct CardHolder {
    var memberId: Int64
    var card: String
    var cardStatus: String
    /// Σ of this store's entries (the ledger's own cache).
    var balance: Int64
    var tier: String
    /// The balance the store can vouch for: head office's last snapshot plus this store's entries
    /// not yet in it; the local balance when head office has not described the member yet.
    var vouchedBalance: Int64
    /// Earning on a card this till had not heard of: not enrolled here, not described by head office.
    var provisional: Bool
    /// Head office's 12-month figures from the last snapshot and the store sequence they include.
    var snapshotProgress: (spend: Int64, points: Int64, included: Int64)?
    /// This till's entries' figures as the member's row keeps them (nil: not kept yet, or summed instead).
    var keptRolling: KeptRollingFigures?
    /// Whether members were merged into this one here (their entries count with it).
    var hasMergedMembers = false
}

/// The sums of a member's entries with `seq > afterSeq` and `created_at > fromMilliseconds`, kept on the
/// member's row by the entry trigger (schema v22) so an award does not sum the member's history.
struct KeptRollingFigures {
    var afterSeq: Int64
    var fromMilliseconds: Int64
    /// The oldest counted entry's time (nil: none counted).
    var oldestMilliseconds: Int64?
    var progress: TierProgress

    /// Whether the kept sums are exactly the entries after `basis` within a window that starts
    /// (exclusive) at `windowStart`: same basis, nothing left out that the window holds, nothing
    /// counted that has aged out of it.
    func answers(basis: Int64, windowStart: Int64) -> Bool {
        afterSeq == basis && fromMilliseconds <= windowStart && (oldestMilliseconds.map { windowStart < $0 } ?? true)
    }
}

extension LedgerDatabase {
    /// Appends one entry; SQLite assigns the next sequence number and the trigger moves the
    /// balance cache in the same transaction. Returns the entry's sequence and balance after it.
    func append(_ entry: NewEntry, at millis: Int64, _ db: Database) throws -> (seq: Int64, balanceAfter: Int64) {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO entries (id, store_id, member_id, card, kind, points, amount_minor, balance_after,
                                     receipt, idempotency_key, refers_to_seq, rule_version, reason, created_at,
                                     reported_balance, reported_tier, member_name, member_birthday, joins_card, referred_by, feedback_score, coupon_code,
                                     sale_answer, elsewhere_store, elsewhere_seq, returned_lines)
                VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT balance FROM members WHERE id = ?) + ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                        ?, ?, ?, ?)
                RETURNING seq, balance_after
                """)
        let arguments: [SQLiteArgument] = [
            .text(EntryIdentifier.make(atMilliseconds: millis)), SQLiteArgument(storeId), .integer(entry.memberId),
            .text(entry.card),
            .text(entry.kind.rawValue), .integer(entry.points), .integer(entry.amountMinorUnits),
            .integer(entry.memberId),
            .integer(entry.points), .text(entry.receipt), .text(entry.idempotencyKey),
            SQLiteArgument(entry.refersToSeq),
            .integer(Int64(entry.ruleVersion)), SQLiteArgument(entry.reason), .integer(millis),
            SQLiteArgument(entry.reportedBalance),
            SQLiteArgument(entry.reportedTier), SQLiteArgument(entry.memberName), SQLiteArgument(entry.memberBirthday),
            SQLiteArgument(entry.joinsCard), SQLiteArgument(entry.referredBy), SQLiteArgument(entry.feedbackScore),
            SQLiteArgument(entry.couponCode), SQLiteArgument(entry.saleAnswer), SQLiteArgument(entry.elsewhereStore),
            SQLiteArgument(entry.elsewhereSeq), SQLiteArgument(entry.returnedLines),
        ]
        guard let stored = try statement.firstRow(arguments, { ($0.int64(0), $0.int64(1)) }) else {
            throw StorageError(code: "storage_failure", message: "ledger \(path): the entry was not stored")
        }
        try rememberHowEntryWasDated(stored.0, datedAt: millis, db)
        return stored
    }

    /// Refuses a sale receipt that already carries entries of another member: a receipt's entries stay
    /// with one member, so a refund can never move points between members.
    func requireReceiptBelongs(to memberId: Int64, receipt: ReceiptReference, _ db: Database) throws {
        let statement = try db.cachedStatement(
            sql:
                "SELECT card FROM entries WHERE receipt = ? AND member_id != ? AND kind IN ('earn', 'redeem', 'coupon') LIMIT 1"
        )
        if let other = try statement.firstRow([.text(receipt.value), .integer(memberId)], { $0.text(0) }) {
            throw LoyaltyError.refused(
                "receipt_other_member",
                "receipt \(receipt) belongs to card \(CardNumber.maskedValue(other)), another member; one sale has one member, "
                    + "so use that card or a new receipt reference")
        }
    }

    /// The member holding `card`, or a refusal the cashier understands.
    func cardHolder(
        _ card: CardNumber, program: LoyaltyProgram, _ db: Database, allowBlocked: Bool = false
    ) throws -> CardHolder {
        let statement = try db.cachedStatement(
            sql: """
                SELECT m.id, c.status, m.balance, m.tier, s.balance, s.includes_store_seq, s.tier, m.provisional,
                       s.rolling_spend_minor, IFNULL(s.rolling_points_earned, 0), m.local_rolling_after_seq,
                       m.local_rolling_from_ms, m.local_rolling_oldest_ms, m.local_rolling_spend_minor, m.local_rolling_points,
                       EXISTS (SELECT 1 FROM members g WHERE g.merged_into = m.id)
                FROM cards c JOIN members m ON m.id = c.member_id LEFT JOIN member_snapshots s ON s.member_id = m.id
                WHERE c.number = ?
                """)
        let found = try statement.firstRow([.text(card.value)]) { row in
            (
                memberId: row.int64(0), status: row.text(1), balance: row.int64(2), tier: row.text(3),
                snapshotBalance: row.optionalInt64(4), included: row.optionalInt64(5), hqTier: row.optionalText(6),
                provisional: row.bool(7), snapshotSpend: row.optionalInt64(8), snapshotPoints: row.int64(9),
                hasMergedMembers: row.bool(15),
                kept: row.optionalInt64(10).flatMap { afterSeq in
                    row.optionalInt64(11).map { from in
                        KeptRollingFigures(
                            afterSeq: afterSeq, fromMilliseconds: from, oldestMilliseconds: row.optionalInt64(12),
                            progress: TierProgress(spendMinorUnits: row.int64(13), pointsEarned: row.int64(14)))
                    }
                }
            )
        }
        guard let row = found else {
            throw LoyaltyError.refused(
                "unknown_card",
                "card \(card.masked) is not enrolled at this till: if head office knows it (a member who joined elsewhere), "
                    + "the till learns it at its next sync; a new member is enrolled first")
        }
        let memberId = row.memberId
        // Members merged into this one here (a card sold as unknown, then added to the member) are theirs.
        var vouched = row.balance
        if row.hasMergedMembers {
            vouched += try mergedPoints(into: memberId, basis: 0, db)
        }
        var tier = row.tier
        if let snapshotBalance = row.snapshotBalance, let included = row.included {
            // Checked: the snapshot came over the wire.
            var newer = try unsnapshottedPoints(memberId: memberId, after: included, db)
            if row.hasMergedMembers {
                newer += try mergedPoints(into: memberId, basis: included, db)
            }
            let (sum, overflowed) = snapshotBalance.addingReportingOverflow(newer)
            guard !overflowed else {
                throw LoyaltyError.refused(
                    "balance_out_of_range", "card \(card.masked)'s balance from head office is out of range; sync again"
                )
            }
            vouched = sum
            // Head office knows the member's figures at every store: its tier wins when higher.
            if let hqTier = row.hqTier, hqTier != tier,
                program.tier(named: hqTier).threshold > program.tier(named: tier).threshold
            {
                tier = hqTier
            }
        }
        // The store's other tills' entries the snapshot does not hold yet (a store hub relayed them).
        let peers = isTillOfStore ? try peerPoints(memberId: memberId, db) : 0
        let (withPeers, peersOverflowed) = vouched.addingReportingOverflow(peers)
        guard !peersOverflowed else {
            throw LoyaltyError.refused(
                "balance_out_of_range", "card \(card.masked)'s balance is out of range; sync again")
        }
        vouched = withPeers
        let holder = CardHolder(
            memberId: memberId, card: card.value, cardStatus: row.status, balance: row.balance, tier: tier,
            vouchedBalance: vouched,
            provisional: row.provisional,
            snapshotProgress: row.included.flatMap { included in
                row.snapshotSpend.map { (spend: $0, points: row.snapshotPoints, included: included) }
            },
            // The kept figures are the member's own entries: with members merged into it, they are summed.
            keptRolling: row.hasMergedMembers ? nil : row.kept, hasMergedMembers: row.hasMergedMembers)
        if holder.cardStatus == "blocked" && !allowBlocked {
            throw LoyaltyError.refused(
                "blocked_card", "card \(card.masked) is blocked; ask the member for their current card")
        }
        return holder
    }

    /// The holder of `card`; a card this till has not heard of becomes a provisional member when
    /// `provisionalIfUnknown` (it is in the chain's member ranges), else the refusal stands.
    func cardHolder(
        _ card: CardNumber, program: LoyaltyProgram, provisionalIfUnknown: Bool, at millis: Int64, _ db: Database
    ) throws -> CardHolder {
        if provisionalIfUnknown,
            try Int64.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM cards WHERE number = ?"), arguments: [card.value])
                == nil
        {
            try db.execute(
                sql:
                    "INSERT INTO members (name, birthday, enrolled_at, tier, provisional) VALUES (NULL, NULL, ?, ?, 1)",
                arguments: [millis, program.tiers[0].name])
            try db.execute(
                sql: "INSERT INTO cards (number, member_id, added_at) VALUES (?, ?, ?)",
                arguments: [card.value, db.lastInsertedRowID, millis])
        }
        return try cardHolder(card, program: program, db)
    }

    /// Points of this store's entries for the member after head office's snapshot (members merged into
    /// it here count apart: ``MergedMembers``).
    func unsnapshottedPoints(memberId: Int64, after seq: Int64, _ db: Database) throws -> Int64 {
        try db.cachedStatement(sql: "SELECT IFNULL(SUM(points), 0) FROM entries WHERE member_id = ? AND seq > ?")
            .firstRow([.integer(memberId), .integer(seq)]) { $0.int64(0) } ?? 0
    }

    /// The member's 12-month spend and points earned: head office's chain-wide figure from the last
    /// pull, plus this till's entries newer than that snapshot — the same figure at every till.
    /// `pointsToo` false leaves the points at 0 (a program whose tiers count spend needs no more).
    ///
    /// This till's part comes from the member's row (``KeptRollingFigures``, read with the card holder)
    /// when it answers this window; otherwise from one index range over the member's entries, and with
    /// `keep` (a write transaction) the row then keeps the new sums. Summing the history on every award
    /// made an award's cost grow with the member's entries.
    func rollingProgress(
        holder: CardHolder, at millis: Int64, pointsToo: Bool, keep: Bool = false, _ db: Database
    ) throws -> TierProgress {
        let windowStart = millis - LedgerDatabase.rollingWindowMilliseconds
        let snapshot = holder.snapshotProgress
        let basis = snapshot?.included ?? 0
        var local: TierProgress
        if let kept = holder.keptRolling, kept.answers(basis: basis, windowStart: windowStart) {
            local = kept.progress
        } else {
            let summed = try db.cachedStatement(
                sql: holder.hasMergedMembers ? Self.rollingOfEntriesWithMerged : Self.rollingOfEntries
            ).firstRow(
                [.integer(holder.memberId), .integer(windowStart), .integer(basis)]
            ) { (spend: $0.int64(0), points: $0.int64(1), oldest: $0.optionalInt64(2)) }
            local = TierProgress(spendMinorUnits: summed?.spend ?? 0, pointsEarned: summed?.points ?? 0)
            if keep && !holder.hasMergedMembers {
                try db.cachedStatement(sql: Self.keepRolling).execute(arguments: [
                    basis, windowStart, summed?.oldest, local.spendMinorUnits, local.pointsEarned, holder.memberId,
                ])
            }
        }
        if holder.hasMergedMembers {
            let separate = try separateMergedRolling(into: holder.memberId, windowStart: windowStart, basis: basis, db)
            local.spendMinorUnits += separate.spendMinorUnits
            local.pointsEarned += separate.pointsEarned
        }
        // The store's other tills' entries in the window the snapshot does not hold (a store hub brought them;
        // found by attack: a tier reached by sales at two tills was not priced at the third).
        if isTillOfStore,
            let peers = try db.cachedStatement(sql: Self.rollingOfPeers).firstRow(
                [.integer(holder.memberId), .integer(windowStart)], { (spend: $0.int64(0), points: $0.int64(1)) })
        {
            local.spendMinorUnits += peers.spend
            local.pointsEarned += peers.points
        }
        if !pointsToo { local.pointsEarned = 0 }
        return TierProgress(
            spendMinorUnits: (snapshot?.spend ?? 0) + local.spendMinorUnits,
            pointsEarned: (snapshot?.points ?? 0) + local.pointsEarned)
    }

    /// The member's entries after a sequence and within a window: spend, points earned, oldest time.
    /// When an entry counts in the 12-month figures: a return of a sale of this ledger at its sale's time
    /// (found by review: a return of a sale 13 months old made the figures negative), any other entry at
    /// its own. `alias` is the entry's table alias.
    static func countedAt(_ alias: String) -> String {
        """
        CASE WHEN \(alias).kind = 'reverse' AND \(alias).refers_to_seq IS NOT NULL
             THEN IFNULL((SELECT sold.created_at FROM entries sold WHERE sold.seq = \(alias).refers_to_seq), \(alias).created_at)
             ELSE \(alias).created_at END
        """
    }

    static let rollingOfEntries = """
        SELECT IFNULL(SUM(e.amount_minor), 0), IFNULL(SUM(\(TierBasis.pointsEarnedSQL)), 0), MIN(\(countedAt("e")))
        FROM entries e WHERE e.member_id = ?1 AND \(countedAt("e")) > ?2 AND e.seq > ?3
        """
    /// The same for a member with members merged into it here: the entries of the covered ones count too.
    static let rollingOfEntriesWithMerged = """
        SELECT IFNULL(SUM(e.amount_minor), 0), IFNULL(SUM(\(TierBasis.pointsEarnedSQL)), 0), MIN(\(countedAt("e")))
        FROM entries e
        WHERE e.member_id IN (SELECT ?1 UNION ALL SELECT id FROM members WHERE merged_into = ?1 AND IFNULL(merged_at_seq, 0) <= ?3)
          AND \(countedAt("e")) > ?2 AND e.seq > ?3
        """
    /// The store's other tills' spend and points earned in the window (`?2`) for the member `?1`'s cards, above
    /// head office's marks.
    static let rollingOfPeers = """
        SELECT IFNULL(SUM(p.amount_minor), 0),
               IFNULL(SUM(CASE WHEN p.kind IN ('earn', 'bonus') OR (p.kind = 'reverse' AND p.points < 0) THEN p.points ELSE 0 END), 0)
        FROM store_peer_entries p JOIN cards c ON c.number = p.card
        WHERE c.member_id = ?1 AND p.created_at_ms > ?2
          AND \(LedgerDatabase.notInSnapshot("p", member: "c.member_id"))
        """
    static let keepRolling = """
        UPDATE members SET local_rolling_after_seq = ?, local_rolling_from_ms = ?, local_rolling_oldest_ms = ?,
                           local_rolling_spend_minor = ?, local_rolling_points = ?
        WHERE id = ?
        """

    static let rollingWindowMilliseconds: Int64 = 365 * 24 * 3600 * 1000
}
