public import Foundation
import GRDB
public import LoyaltyCore

extension LedgerDatabase {
    /// Enrols a new member holding `card`. A card can belong to one member only.
    public func enroll(card: CardNumber, name: String?, birthday: CalendarDate?, at now: Date = Date()) throws -> EnrollResult {
        try write { db in
            let program = try currentProgram(db)
            if let owner = try Int64.fetchOne(db, sql: "SELECT member_id FROM cards WHERE number = ?", arguments: [card.value]) {
                throw LoyaltyError.refused(
                    "card_taken", "card \(card.masked) already belongs to member \(owner); look them up with `loyalty-agent member \(card.value)`")
            }
            let millis = now.millisecondsSince1970
            try db.execute(
                sql: "INSERT INTO members (name, birthday, enrolled_at, tier) VALUES (?, ?, ?, ?)",
                arguments: [name, birthday?.description, millis, program.tiers[0].name])
            let memberId = db.lastInsertedRowID
            try db.execute(
                sql: "INSERT INTO cards (number, member_id, added_at) VALUES (?, ?, ?)",
                arguments: [card.value, memberId, millis])
            return EnrollResult(
                card: card.value, memberId: memberId, name: name, birthday: birthday?.description,
                tier: program.tiers[0].name, balance: 0)
        }
    }
}
