public import Foundation
import CouponCodes
import GRDB
public import LoyaltyCore

/// What `coupon use` did.
public struct CouponResult: Hashable, Sendable, Codable {
    public var code: String
    public var card: String
    /// The discount, as a decimal string in ``currency``.
    public var discount: String
    public var currency: String
    public var receipt: String
    public var replayed: Bool
}

/// A coupon as the till knows it.
public struct CouponView: Hashable, Sendable, Codable {
    public var code: String
    public var discount: String
    /// `open`, `used` or `voided`; an open coupon past ``expiresAt`` no longer works.
    public var status: String
    public var issuedAt: String
    public var expiresAt: String
}

/// A coupon as head office describes it in a pull.
public struct HeadOfficeCoupon: Hashable, Sendable {
    public var code: String
    public var status: String
    public var ruleVersion: Int
    public var issuedAtMilliseconds: Int64

    public init(code: String, status: String, ruleVersion: Int, issuedAtMilliseconds: Int64) {
        self.code = code
        self.status = status
        self.ruleVersion = ruleVersion
        self.issuedAtMilliseconds = issuedAtMilliseconds
    }
}

extension LedgerDatabase {
    static let millisecondsPerDay: Int64 = 86_400_000

    /// The member's first card chain-wide: head office's (from the last snapshot), else this till's
    /// first. Every till makes the same coupon code from it.
    static let chainFirstCard = """
        SELECT COALESCE((SELECT first_card FROM member_snapshots WHERE member_id = ?1),
                        (SELECT number FROM cards WHERE member_id = ?1 ORDER BY added_at, number LIMIT 1))
        """

    /// 14 capital letters from SHA-256: not a card number, and nothing the output redactor can take for one.
    static func couponDigest(_ text: String) -> String { CouponRule.codeDigest(text) }

    /// Issues `rule`'s coupon to the member, once per member and rule (the code is the rule and the
    /// member's first card here). Returns the code, or nil when the member already has it.
    @discardableResult
    func issueCoupon(
        _ rule: CouponRule, memberId: Int64, program: LoyaltyProgram, issuedBySeq: Int64?, receipt: String, at millis: Int64,
        _ db: Database
    ) throws -> String? {
        guard let card = try String.fetchOne(db, sql: Self.chainFirstCard, arguments: [memberId]) else { return nil }
        let code = rule.code(card: card, couponKey: program.couponKey, digest: Self.couponDigest)
        guard try Int64.fetchOne(db, sql: "SELECT 1 FROM coupons WHERE code = ?", arguments: [code]) == nil else { return nil }
        try db.execute(
            sql: """
                INSERT INTO coupons (code, member_id, rule_version, discount_minor, issued_at, expires_at, status, issued_by_seq)
                VALUES (?, ?, ?, ?, ?, ?, 'open', ?)
                """,
            arguments: [
                code, memberId, program.version, rule.discountMinor, millis, millis + Int64(rule.validDays) * Self.millisecondsPerDay,
                issuedBySeq,
            ])
        _ = try append(
            NewEntry(
                memberId: memberId, card: card, kind: .coupon, points: 0, amountMinorUnits: 0, receipt: receipt,
                idempotencyKey: "coupon:issued:\(code)", refersToSeq: issuedBySeq, ruleVersion: program.version, reason: "issued",
                couponCode: code),
            at: millis, db)
        return code
    }

    /// Coupons for a new member's `n`-th sale within the rules' days of enrolling (high-potential new
    /// members), issued with the sale that reaches the count.
    func issueEarlyVisitCoupons(
        memberId: Int64, standing: SaleStanding, program: LoyaltyProgram, saleSeq: Int64, receipt: String, at millis: Int64, _ db: Database
    ) throws -> [String] {
        let rules = (program.coupons ?? []).compactMap { rule -> (CouponRule, Int, Int)? in
            if case .earlyVisits(let visits, let days) = rule.trigger { return (rule, visits, days) }
            return nil
        }
        let enrolledAt = standing.enrolledAt
        guard !rules.isEmpty, standing.holdsACard else { return [] }
        var issued: [String] = []
        for (rule, visits, days) in rules where millis <= enrolledAt + Int64(days) * Self.millisecondsPerDay {
            // The member has this rule's coupon already (the usual case after the N-th visit): one index
            // lookup by member and the rule's code prefix, no digest.
            let prefix = rule.name.uppercased() + "-"
            if try db.cachedStatement(sql: "SELECT 1 FROM coupons WHERE member_id = ? AND code > ? AND code < ? LIMIT 1")
                .firstRow([.integer(memberId), .text(prefix), .text(prefix + "\u{7F}")], { _ in true }) == true
            {
                continue
            }
            // The chain's visits: head office's count plus this till's sales it has not seen. Counting stops
            // at `visits` sales: the scan is bounded whatever the member's history.
            let sales =
                Int(standing.chainVisits)
                + (try db.cachedStatement(sql: Self.visitsSinceEnrolment).firstRow(
                    [.integer(memberId), .integer(enrolledAt), .integer(standing.chainVisitsThroughSeq), .integer(Int64(visits))]
                ) { Int($0.int64(0)) } ?? 0)
            if sales >= visits,
                let code = try issueCoupon(rule, memberId: memberId, program: program, issuedBySeq: saleSeq, receipt: receipt, at: millis, db)
            {
                issued.append(code)
            }
        }
        return issued
    }

    /// This till's sales since enrolling that head office's count does not include (seq beyond it).
    static let visitsSinceEnrolment = """
        SELECT COUNT(*) FROM (SELECT 1 FROM entries WHERE member_id = ? AND kind = 'earn' AND created_at >= ? AND seq > ?
                              LIMIT ?)
        """

    /// Voids the unused coupons a sale earned (its full refund). Returns the codes.
    func voidCoupons(issuedBySeq seq: Int64, receipt: String, refundKey: String, at millis: Int64, _ db: Database) throws -> [String] {
        let rows = try Row.fetchAll(
            db, sql: "SELECT code, member_id, rule_version FROM coupons WHERE issued_by_seq = ? AND status = 'open'", arguments: [seq])
        for row in rows {
            let code: String = row["code"]
            try db.execute(sql: "UPDATE coupons SET status = 'voided' WHERE code = ?", arguments: [code])
            _ = try append(
                NewEntry(
                    memberId: row["member_id"], card: try cardOfCoupon(code, memberId: row["member_id"], db), kind: .coupon, points: 0,
                    amountMinorUnits: 0, receipt: receipt, idempotencyKey: "\(refundKey):coupon:\(code)", refersToSeq: seq,
                    ruleVersion: row["rule_version"], reason: "voided", couponCode: code),
                at: millis, db)
        }
        return rows.map { $0["code"] }
    }

    private func cardOfCoupon(_ code: String, memberId: Int64, _ db: Database) throws -> String {
        try String.fetchOne(
            db, sql: "SELECT number FROM cards WHERE member_id = ? ORDER BY added_at, number LIMIT 1", arguments: [memberId]) ?? ""
    }

    /// Uses a coupon of the member holding `card` on their sale `receipt`: once, at any store. A retry
    /// with the same receipt prints the original result; another use is refused, and so is a coupon of
    /// another member or a receipt of another member. A coupon this till has not heard of (issued at
    /// another store since the last sync) is refused: it arrives with the member at the next sync.
    public func useCoupon(code: String, card: CardNumber, receipt: ReceiptReference, at now: Date? = nil) throws -> CouponResult {
        let now = now ?? headOfficeNow()
        let code = code.uppercased()
        guard (1...64).contains(code.count), code.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            throw LoyaltyError.badInput("bad_coupon", "a coupon code is letters, digits and '-', e.g. WELCOME-KQZXBMTRWAHPLE")
        }
        return try write { db in
            let program = try currentProgram(db)
            let holder = try cardHolder(card, program: program, db)
            let key = "coupon:used:\(code):\(receipt.value)"
            guard let coupon = try Row.fetchOne(
                db, sql: "SELECT member_id, rule_version, discount_minor, expires_at, status, used_receipt FROM coupons WHERE code = ?",
                arguments: [code])
            else {
                throw LoyaltyError.refused(
                    "unknown_coupon", "this till does not know coupon \(code); check the code, or sync: coupons issued at another store arrive with the member")
            }
            // A code alone is not enough: the coupon is the member's, used on the member's own sale.
            guard coupon["member_id"] as Int64 == holder.memberId else {
                throw LoyaltyError.refused(
                    "coupon_other_member", "coupon \(code) belongs to another member; scan the card of the member it was issued to")
            }
            try requireReceiptBelongs(to: holder.memberId, receipt: receipt, db)
            let card = try cardOfCoupon(code, memberId: coupon["member_id"], db)
            let discount = Money(minorUnits: coupon["discount_minor"], currency: program.currency).decimalString
            if try Int64.fetchOne(db, sql: "SELECT 1 FROM entries WHERE idempotency_key = ?", arguments: [key]) != nil {
                return CouponResult(
                    code: code, card: card, discount: discount, currency: program.currency.code, receipt: receipt.value, replayed: true)
            }
            switch coupon["status"] as String {
            case "used":
                throw LoyaltyError.refused("coupon_used", "coupon \(code) was already used (receipt \(coupon["used_receipt"] as String? ?? "at another store")); it works once")
            case "voided":
                throw LoyaltyError.refused(
                    "coupon_voided",
                    "coupon \(code) was voided: the sale that earned it was refunded, or head office withdrew it "
                        + "(the member holds another coupon of its kind)")
            default:
                break
            }
            guard now.millisecondsSince1970 <= coupon["expires_at"] as Int64 else {
                throw LoyaltyError.refused("coupon_expired", "coupon \(code) expired on \(Date(millisecondsSince1970: coupon["expires_at"]).chainTime(program.chainTimeZone))")
            }
            try db.execute(sql: "UPDATE coupons SET status = 'used', used_receipt = ? WHERE code = ?", arguments: [receipt.value, code])
            _ = try append(
                NewEntry(
                    memberId: coupon["member_id"], card: card, kind: .coupon, points: 0, amountMinorUnits: 0, receipt: receipt.value,
                    idempotencyKey: key, refersToSeq: nil, ruleVersion: coupon["rule_version"], reason: "used", couponCode: code),
                at: now.millisecondsSince1970, db)
            return CouponResult(code: code, card: card, discount: discount, currency: program.currency.code, receipt: receipt.value, replayed: false)
        }
    }

    /// The member's coupons this till knows, newest first.
    func coupons(memberId: Int64, currency: Currency, timeZone: String, _ db: Database) throws -> [CouponView] {
        try Row.fetchAll(
            db, sql: "SELECT code, discount_minor, status, issued_at, expires_at FROM coupons WHERE member_id = ? ORDER BY issued_at DESC, code",
            arguments: [memberId]
        ).map {
            CouponView(
                code: $0["code"], discount: Money(minorUnits: $0["discount_minor"], currency: currency).decimalString, status: $0["status"],
                issuedAt: Date(millisecondsSince1970: $0["issued_at"]).chainTime(timeZone),
                expiresAt: Date(millisecondsSince1970: $0["expires_at"]).chainTime(timeZone))
        }
    }

    /// Head office's coupons for a member: unknown ones are learned (their discount and validity from
    /// the rule of the version that issued them), head office's used or voided wins over open here (used over
    /// voided: a till offline accepted it after its sale was refunded here), and a coupon follows its member as head
    /// office holds it (after a merge).
    func applyHeadOfficeCoupons(_ coupons: [HeadOfficeCoupon], memberId: Int64, _ db: Database) throws {
        for coupon in coupons.prefix(Self.maximumHeadOfficeEntriesPerMember) {
            guard ["open", "used", "voided"].contains(coupon.status),
                let document = try String.fetchOne(db, sql: "SELECT document FROM program_versions WHERE version = ?", arguments: [coupon.ruleVersion]),
                let program = try? JSONDecoder().decode(LoyaltyProgram.self, from: Data(document.utf8)),
                let (rule, _) = CouponRule.parse(code: coupon.code, rules: program.coupons ?? [])
            else { continue }
            try db.execute(
                sql: """
                    INSERT INTO coupons (code, member_id, rule_version, discount_minor, issued_at, expires_at, status)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (code) DO UPDATE SET member_id = excluded.member_id,
                        status = CASE WHEN excluded.status = 'used'
                                           OR (coupons.status = 'open' AND excluded.status != 'open') THEN excluded.status
                                      ELSE coupons.status END
                    """,
                arguments: [
                    coupon.code, memberId, coupon.ruleVersion, rule.discountMinor, coupon.issuedAtMilliseconds,
                    coupon.issuedAtMilliseconds + Int64(rule.validDays) * Self.millisecondsPerDay, coupon.status,
                ])
        }
    }
}
