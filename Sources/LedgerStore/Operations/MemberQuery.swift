public import Foundation
import GRDB
public import LoyaltyCore

extension LedgerDatabase {
    /// The member holding `card` (blocked cards included), with their newest entries. A card unknown here is asked
    /// for at the next sync (``cardsToAsk(limit:)``).
    public func member(card: CardNumber, recentLimit: Int = 10, at now: Date = Date()) throws -> MemberView {
        try notingUnknownCard(card) { try memberView(card: card, recentLimit: recentLimit, at: now) }
    }

    private func memberView(card: CardNumber, recentLimit: Int, at now: Date) throws -> MemberView {
        try read { db in
            let program = try currentProgram(db)
            let holder = try cardHolder(card, program: program, db, allowBlocked: true)
            if holder.cardStatus == "blocked",
                try Bool.fetchOne(
                    db, sql: "SELECT \(Self.holdsOnlyBlockedCards) FROM members m WHERE m.id = ?", arguments: [holder.memberId]) == true
            {
                throw LoyaltyError.refused(
                    "blocked_card",
                    "card \(card.masked) is blocked by head office (reported lost or stolen before any store used it); no member holds it")
            }
            let member = try Row.fetchOne(
                db, sql: "SELECT name, birthday, enrolled_at FROM members WHERE id = ?", arguments: [holder.memberId])!
            let cards = try String.fetchAll(
                db, sql: "SELECT number FROM cards WHERE member_id = ? ORDER BY added_at, number", arguments: [holder.memberId])
            let progress = try rollingProgress(holder: holder, at: now.millisecondsSince1970, pointsToo: true, db)
            let entries = try Row.fetchAll(
                db,
                sql: "SELECT seq, kind, points, amount_minor, balance_after, receipt, rule_version, created_at FROM entries WHERE member_id = ? ORDER BY seq DESC LIMIT ?",
                arguments: [holder.memberId, recentLimit]
            ).map { row in
                EntryView(
                    seq: row["seq"], kind: EntryKind(rawValue: row["kind"]) ?? .adjust, points: row["points"],
                    amount: Money(minorUnits: row["amount_minor"], currency: program.currency).decimalString,
                    balanceAfter: row["balance_after"], receipt: row["receipt"], ruleVersion: row["rule_version"],
                    at: Date(millisecondsSince1970: row["created_at"]).chainTime(program.chainTimeZone))
            }
            // The tier held, or the one the figures reach under this version when higher (a lowered threshold).
            let tier = program.tierAfterPurchase(current: program.tier(named: holder.tier), progress: progress)
            let next = program.nextTier(current: tier, progress: progress)
            let flags = try String.fetchOne(db, sql: "SELECT flags FROM member_snapshots WHERE member_id = ?", arguments: [holder.memberId])
            return MemberView(
                card: card.value, cardStatus: holder.cardStatus, provisional: holder.provisional, memberId: holder.memberId,
                name: member["name"],
                birthday: member["birthday"], balance: holder.vouchedBalance, localBalance: holder.balance,
                headOfficeBalance: try Int64.fetchOne(db, sql: "SELECT balance FROM member_snapshots WHERE member_id = ?", arguments: [holder.memberId]),
                tier: tier.name,
                tierBenefits: tier.benefits,
                tiersBy: (program.tierBasis ?? .spend).rawValue,
                rollingSpend: Money(minorUnits: progress.spendMinorUnits, currency: program.currency).decimalString,
                rollingPointsEarned: progress.pointsEarned,
                nextTier: next?.tier.name,
                spendToNextTier: program.tiersCountPoints
                    ? nil : next.map { Money(minorUnits: $0.missing, currency: program.currency).decimalString },
                pointsToNextTier: program.tiersCountPoints ? next?.missing : nil,
                birthdayThisWeek: Self.isWithinAWeek(birthday: member["birthday"], of: now, timeZone: program.chainTimeZone),
                flags: flags.map { $0.split(separator: ",").map(String.init) } ?? [],
                currency: program.currency.code, cards: cards,
                enrolledAt: Date(millisecondsSince1970: member["enrolled_at"]).chainTime(program.chainTimeZone), recentEntries: entries,
                headOfficeEntries: try Row.fetchAll(
                    db,
                    sql: "SELECT id, kind, points, reason, created_at FROM head_office_entries WHERE member_id = ? ORDER BY created_at DESC, id LIMIT ?",
                    arguments: [holder.memberId, recentLimit]
                ).map {
                    var entry = HeadOfficeIssuedEntry(
                        id: $0[0], kind: EntryKind(rawValue: $0[1]) ?? .bonus, points: $0[2], reason: $0[3], atMilliseconds: $0[4])
                    entry.at = Date(millisecondsSince1970: entry.atMilliseconds).chainTime(program.chainTimeZone)
                    return entry
                },
                coupons: try coupons(memberId: holder.memberId, currency: program.currency, timeZone: program.chainTimeZone, db))
        }
    }
}

extension LedgerDatabase {
    /// Whether a `YYYY-MM-DD` or `MM-DD` birthday falls on one of the 7 days (the chain's time zone)
    /// starting at `now`.
    static func isWithinAWeek(birthday: String?, of now: Date, timeZone: String) -> Bool {
        guard let birthday, let monthDay = BirthdayMonthDay(birthday) else { return false }
        let calendar = calendar(timeZone)
        return (0..<7).contains { offset in
            let date = now.addingTimeInterval(Double(offset) * 86_400)
            let components = calendar.dateComponents([.year, .month, .day], from: date)
            let celebrated = monthDay.celebrated(inYear: components.year ?? 0)
            return components.month == celebrated.month && components.day == celebrated.day
        }
    }
}

extension LedgerDatabase {
    /// Whether the member record `m` holds nothing but blocked cards: a card head office blocked before
    /// anyone used it, which this till keeps to refuse it. No member, in any count or lookup.
    static let holdsOnlyBlockedCards = """
        (NOT EXISTS (SELECT 1 FROM entries e WHERE e.member_id = m.id)
         AND NOT EXISTS (SELECT 1 FROM member_snapshots s WHERE s.member_id = m.id)
         AND NOT EXISTS (SELECT 1 FROM cards c WHERE c.member_id = m.id AND c.status <> 'blocked'))
        """
}

extension Date {
    /// As every time is shown: the chain's zone, to the second (``ChainTime``).
    func chainTime(_ timeZone: String) -> String { ChainTime.text(self, timeZone: timeZone) }
}
