public import Foundation
public import LoyaltyCore

/// What head office prices a member's sales again from: the sales tills priced (base and tier), the member's
/// 12-month figure rows, the tier the last review gave, the birthday and segments, and the earlier corrections.
public struct MemberSaleFacts: Sendable {
    public var memberId: Int64
    public var card: String
    public var birthdayMonth: Int?
    /// Since when head office has known that birthday (the profile change that set it).
    public var birthdayKnownFromMilliseconds: Int64?
    public var flags: [String]
    public var reviewFloor: (tier: String, atMilliseconds: Int64)?
    public var sales: [SaleRepricing.Sale] = []
    /// The figure rows without head office's corrections of sale prices (recomputed each time).
    public var rows: [SaleRepricing.FigureRow] = []
    /// Net points and count of the corrections of each sale (`STORE:SEQ`).
    public var corrected: [String: (points: Int64, count: Int)] = [:]
}

/// SQL shared by the drivers; `members` is the driver's filter on `member_id`.
enum SaleRepricingQueries {
    static let keyPrefix = "reconcile:sale:"

    static func members(members: String) -> String {
        """
        SELECT id, first_card, birthday, flags, review_floor, reviewed_at_ms, birthday_at_ms FROM hq_members
        WHERE id \(members)
        """
    }

    /// Sales a till priced (its base and tier travelled), with the amount their returns took back.
    static func sales(members: String) -> String {
        """
        SELECT e.member_id, e.store_id, e.seq, e.receipt, e.created_at_ms, COALESCE(e.stated_at_ms, e.created_at_ms),
               e.earning_base, e.priced_tier, e.rule_version, e.amount_minor,
               CAST(COALESCE((SELECT SUM(r.amount_minor) FROM hq_entries r
                              WHERE r.kind = 'reverse' AND r.refers_to_seq = e.seq
                                AND COALESCE(r.refers_to_store, r.store_id) = e.store_id), 0) AS BIGINT),
               e.points, CAST(e.priced_birthday AS BIGINT),
               CAST(COALESCE((SELECT SUM(r.points) FROM hq_entries r
                              WHERE r.kind = 'reverse' AND r.points < 0 AND r.refers_to_seq = e.seq
                                AND COALESCE(r.refers_to_store, r.store_id) = e.store_id), 0) AS BIGINT),
               (SELECT MAX(r.created_at_ms) FROM hq_entries r
                WHERE r.kind = 'reverse' AND r.refers_to_seq = e.seq AND COALESCE(r.refers_to_store, r.store_id) = e.store_id)
        FROM hq_entries e
        WHERE e.member_id \(members) AND e.kind = 'earn' AND e.earning_base IS NOT NULL AND e.priced_tier IS NOT NULL
        """
    }

    /// The rows of `hq_tier_rows` (``HeadOfficeSchema``), each with when it was known: a return counts at its
    /// sale's time and was known at its own. (The filter is in each part: PostgreSQL does not push a filter with a
    /// subquery into a UNION; found by fleet-benchmark.)
    static func rows(members: String) -> String {
        """
        SELECT e.member_id, e.kind, e.points, e.amount_minor,
               CASE WHEN e.kind = 'reverse' AND e.refers_to_seq IS NOT NULL
                    THEN COALESCE((SELECT s.created_at_ms FROM hq_entries s
                                   WHERE s.store_id = COALESCE(e.refers_to_store, e.store_id) AND s.seq = e.refers_to_seq),
                                  e.created_at_ms)
                    ELSE e.created_at_ms END,
               e.created_at_ms
        FROM hq_entries e WHERE e.member_id \(members)
        UNION ALL
        SELECT member_id, 'bonus', points, 0, COALESCE(counts_at_ms, created_at_ms), COALESCE(counts_at_ms, created_at_ms)
        FROM hq_issued
        WHERE member_id \(members) AND (kind = 'bonus'
               OR (kind = 'adjust' AND idempotency_key LIKE 'reconcile:%' AND idempotency_key NOT LIKE 'reconcile:restore:%'))
        UNION ALL
        SELECT member_id, CASE WHEN kind = 'sale' THEN 'earn' ELSE 'reverse' END, 0, amount_minor, at_ms, at_ms
        FROM hq_imported_sales WHERE member_id \(members)
        UNION ALL
        SELECT s.member_id, 'adjust', 0, o.amount_minor, s.created_at_ms, s.created_at_ms
        FROM hq_return_overlaps o JOIN hq_entries s ON s.store_id = o.store_id AND s.seq = o.seq WHERE s.member_id \(members)
        """
    }

    /// Earlier corrections of sale prices: member, key (`reconcile:sale:STORE:SEQ:N`), points, when they count.
    static func corrections(members: String) -> String {
        """
        SELECT member_id, idempotency_key, points, COALESCE(counts_at_ms, created_at_ms) FROM hq_issued
        WHERE kind = 'adjust' AND idempotency_key LIKE '\(keyPrefix)%' AND member_id \(members)
        """
    }

    /// `STORE:SEQ` of a correction's key.
    static func sale(ofKey key: String) -> String? {
        guard key.hasPrefix(keyPrefix) else { return nil }
        let parts = key.dropFirst(keyPrefix.count).split(separator: ":")
        guard parts.count == 3 else { return nil }
        return "\(parts[0]):\(parts[1])"
    }

    struct Folder {
        var facts: [Int64: MemberSaleFacts] = [:]

        mutating func member(
            id: Int64, card: String, birthday: String?, flags: String?, reviewFloor: String?, reviewedAt: Int64?,
            birthdayAt: Int64?
        ) {
            var member = MemberSaleFacts(
                memberId: id, card: card, birthdayMonth: birthday.flatMap(BirthdayMonthDay.init)?.month,
                birthdayKnownFromMilliseconds: birthdayAt,
                flags: flags.map { $0.split(separator: ",").map(String.init) } ?? [])
            if let reviewFloor, let reviewedAt { member.reviewFloor = (reviewFloor, reviewedAt) }
            facts[id] = member
        }

        mutating func sale(memberId: Int64, _ sale: SaleRepricing.Sale) { facts[memberId]?.sales.append(sale) }

        mutating func row(memberId: Int64, _ row: SaleRepricing.FigureRow) { facts[memberId]?.rows.append(row) }

        /// An earlier correction: counted in the rows (the view holds it), taken out of them here.
        mutating func correction(memberId: Int64, key: String, points: Int64, at: Int64) {
            guard let sale = SaleRepricingQueries.sale(ofKey: key), facts[memberId] != nil else { return }
            let earlier = facts[memberId]!.corrected[sale] ?? (0, 0)
            facts[memberId]!.corrected[sale] = (earlier.points + points, earlier.count + 1)
            facts[memberId]!.rows.append(.init(kind: "bonus", points: -points, amountMinor: 0, atMilliseconds: at))
        }
    }
}

extension HeadOfficeStore {
    /// Prices the sales of the members holding `cards` again at the tier each member held chain-wide just before
    /// the sale and at the time the sale counts, and corrects each difference with one visible `adjust`
    /// (`reconcile:sale_repriced`, counted at the sale's time). Running it again changes nothing.
    @discardableResult
    public func reconcileSalePrices(cards: [String], actor: String, now: Date) async throws -> [ReconciliationRecord] {
        let cards = Array(Set(cards).prefix(Self.maximumMembersPerReconciliation))
        let published = try await programs()
        // Sales priced by the built-in program (nothing published) are priced alike everywhere.
        guard !cards.isEmpty, !published.isEmpty else { return [] }
        var requests: [IssuedEntryRequest] = []
        var records: [ReconciliationRecord] = []
        var prices: [(saleKey: String, fullDelta: Int64)] = []
        for member in try await salePricingFacts(cards: cards).sorted(by: { $0.memberId < $1.memberId })
        where !member.sales.isEmpty {
            let corrections = SaleRepricing.corrections(
                sales: member.sales, rows: member.rows, reviewFloor: member.reviewFloor,
                windowMilliseconds: HeadOfficeProgram.rollingWindowMilliseconds, birthdayMonth: member.birthdayMonth,
                birthdayKnownFromMilliseconds: member.birthdayKnownFromMilliseconds, flags: member.flags,
                chainProgram: { sale in
                    // Not a version before its valid_from at the sale's time as counted (found by attack: a till whose
                    // clock ran a day ahead priced by tomorrow's version): the one in force then.
                    guard let recorded = published.first(where: { $0.program.version == sale.ruleVersion })?.program,
                        (recorded.validFromMilliseconds ?? 0) > sale.atMilliseconds
                    else { return nil }
                    return HeadOfficeProgram.deciding(
                        published, atMilliseconds: sale.atMilliseconds, recordedVersion: 0)
                }
            ) { sale in
                // The version the till priced under: an offline till keeps the last version it has, by design.
                published.first { $0.program.version == sale.ruleVersion }?.program
            }
            for correction in corrections {
                let earlier = member.corrected[correction.sale.key] ?? (0, 0)
                if correction.fullPoints != 0 || earlier.count > 0 {
                    prices.append((correction.sale.key, correction.fullPoints))
                }
                let points = correction.points - earlier.points
                guard points != 0 else { continue }
                let reason = earlier.count == 0 ? correction.reason : correction.reason + " (recounted)"
                requests.append(
                    IssuedEntryRequest(
                        memberId: member.memberId, card: member.card, kind: .adjust, points: points, reason: reason,
                        idempotencyKey: "\(SaleRepricingQueries.keyPrefix)\(correction.sale.key):\(earlier.count)",
                        createdAtMilliseconds: now.milliseconds, countsAtMilliseconds: correction.sale.atMilliseconds))
                records.append(
                    ReconciliationRecord(
                        card: member.card, reasonCode: SaleRepricing.reasonCode, points: points, reason: reason,
                        atMilliseconds: now.milliseconds, by: actor))
            }
        }
        _ = try await issue(requests, actor: actor, now: now)
        try await recordSalePrices(prices)
        return records
    }
}
