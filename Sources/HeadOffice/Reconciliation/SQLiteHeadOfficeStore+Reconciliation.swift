import Foundation
import GRDB
import LoyaltyCore

extension SQLiteHeadOfficeStore {
    /// The members holding the cards of ``cardList(_:)`` (the queries' `member_id \(…)`), one JSON argument (numbered:
    /// a query may filter several of its parts by it).
    static let membersOfCards = "IN (SELECT member_id FROM hq_cards WHERE card IN (SELECT value FROM json_each(?1)))"

    static func cardList(_ cards: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(cards), as: UTF8.self)
    }

    public func grantFacts(cards: [String]) async throws -> [MemberGrantFacts] {
        let (members, list) = (Self.membersOfCards, try Self.cardList(cards))
        return try await pool.read { db in
            var folder = ReconciliationQueries.Folder()
            for row in try Row.fetchAll(db, sql: ReconciliationQueries.members(members: members), arguments: [list]) {
                folder.member(id: row[0], card: row[1], firstImportedSale: row[2])
            }
            for row in try Row.fetchAll(db, sql: ReconciliationQueries.paid(members: members), arguments: [list]) {
                folder.paid(memberId: row[0], storeId: row[1], reason: row[2], points: row[3], at: row[4])
            }
            for row in try Row.fetchAll(db, sql: ReconciliationQueries.corrections(members: members), arguments: [list])
            {
                folder.correction(memberId: row[0], key: row[1], points: row[2])
            }
            for row in try Row.fetchAll(db, sql: ReconciliationQueries.events(members: members), arguments: [list]) {
                folder.event(
                    memberId: row[0], kind: row[1], storeId: row[2], seq: row[3], at: row[4], ruleVersion: row[5])
            }
            for row in try Row.fetchAll(db, sql: ReconciliationQueries.referrals(members: members), arguments: [list]) {
                folder.referral(
                    memberId: row[0], referrerMemberId: row[2], referrerCard: row[3], paid: row[4], corrected: row[5],
                    corrections: row[6], referredCard: row[7], takenBackByMerge: row[8], stillReferred: row[9])
            }
            folder.finish()
            return Array(folder.facts.values)
        }
    }

    public func recordSalePrices(_ prices: [(saleKey: String, fullDelta: Int64)]) async throws {
        guard !prices.isEmpty else { return }
        try await pool.write { db in
            for price in prices {
                guard let colon = price.saleKey.lastIndex(of: ":"), let seq = Int64(price.saleKey[price.saleKey.index(after: colon)...])
                else { continue }
                try db.execute(
                    sql: """
                        INSERT INTO hq_sale_prices (store_id, seq, full_delta) VALUES (?, ?, ?)
                        ON CONFLICT (store_id, seq) DO UPDATE SET full_delta = excluded.full_delta
                        """,
                    arguments: [String(price.saleKey[..<colon]), seq, price.fullDelta])
            }
        }
    }

    public func salePricingFacts(cards: [String]) async throws -> [MemberSaleFacts] {
        let (members, list) = (Self.membersOfCards, try Self.cardList(cards))
        return try await pool.read { db in
            var folder = SaleRepricingQueries.Folder()
            for row in try Row.fetchAll(db, sql: SaleRepricingQueries.members(members: members), arguments: [list]) {
                folder.member(
                    id: row[0], card: row[1], birthday: row[2], flags: row[3], reviewFloor: row[4], reviewedAt: row[5],
                    birthdayAt: row[6])
            }
            for row in try Row.fetchAll(db, sql: SaleRepricingQueries.sales(members: members), arguments: [list]) {
                var sale = SaleRepricing.Sale(
                    key: "\(row[1] as String):\(row[2] as Int64)", receipt: row[3], atMilliseconds: row[4],
                    statedAtMilliseconds: row[5], base: row[6], pricedTier: row[7], ruleVersion: row[8],
                    amountMinor: row[9], returnedMinor: row[10], points: row[11], returnedPoints: row[13])
                sale.pricedBirthday = (row[12] as Int64?).map { $0 == 1 }
                sale.lastReturnAtMilliseconds = row[14]
                folder.sale(memberId: row[0], sale)
            }
            for row in try Row.fetchAll(db, sql: SaleRepricingQueries.rows(members: members), arguments: [list]) {
                folder.row(
                    memberId: row[0],
                    .init(kind: row[1], points: row[2], amountMinor: row[3], atMilliseconds: row[4], knownAtMilliseconds: row[5]))
            }
            for row in try Row.fetchAll(db, sql: SaleRepricingQueries.corrections(members: members), arguments: [list]) {
                folder.correction(memberId: row[0], key: row[1], points: row[2], at: row[3])
            }
            return Array(folder.facts.values)
        }
    }

    public func dayCapFacts(cards: [String]) async throws -> [MemberDayCapFacts] {
        let (members, list) = (Self.membersOfCards, try Self.cardList(cards))
        return try await pool.read { db in
            var folder = DayCapQueries.Folder()
            for row in try Row.fetchAll(db, sql: DayCapQueries.sales(members: members), arguments: [list]) {
                folder.sale(
                    memberId: row[0], card: row[1], storeId: row[2], seq: row[3], at: row[4], points: row[5],
                    rule: row[6], pointsBeforeCaps: row[7], amountMinor: row[8])
            }
            for row in try Row.fetchAll(db, sql: DayCapQueries.refunds(members: members), arguments: [list]) {
                folder.refund(storeId: row[1], saleSeq: row[2], at: row[3], points: row[4], amountMinor: row[5])
            }
            for row in try Row.fetchAll(db, sql: DayCapQueries.corrections(members: members), arguments: [list]) {
                folder.correction(memberId: row[0], key: row[1], points: row[2])
            }
            for row in try Row.fetchAll(db, sql: DayCapQueries.returnCorrections(members: members), arguments: [list]) {
                folder.returnCorrection(key: row[1], points: row[2])
            }
            for row in try Row.fetchAll(db, sql: DayCapQueries.priceCorrections(members: members), arguments: [list]) {
                folder.priceCorrection(key: row[1], points: row[2])
            }
            for row in try Row.fetchAll(db, sql: DayCapQueries.salePrices(members: members), arguments: [list]) {
                folder.salePrice(sale: row[0], fullDelta: row[1])
            }
            return Array(folder.facts.values)
        }
    }

    public func returnFacts(cards: [String]) async throws -> [SaleReturnFacts] {
        let (members, list) = (Self.membersOfCards, try Self.cardList(cards))
        return try await pool.read { db in
            var folder = ReturnReconciliationQueries.Folder()
            for row in try Row.fetchAll(db, sql: ReturnReconciliationQueries.sales(members: members), arguments: [list])
            {
                folder.sale(
                    memberId: row[0], card: row[1], storeId: row[2], seq: row[3], receipt: row[4], amount: row[5],
                    points: row[6], linesText: row[7], redeemSeq: row[8], redeemed: row[9])
            }
            guard !folder.facts.isEmpty else { return [] }
            for row in try Row.fetchAll(
                db, sql: ReturnReconciliationQueries.returns(members: members), arguments: [list])
            {
                folder.refund(
                    saleStore: row[0], saleSeq: row[1], amount: row[2], points: row[3], linesText: row[4], by: row[5],
                    at: row[6])
            }
            for row in try Row.fetchAll(
                db, sql: ReturnReconciliationQueries.corrections(members: members), arguments: [list])
            {
                folder.correction(key: row[1], points: row[2])
            }
            return Array(folder.facts.values)
        }
    }

    public func recordReturnOverlaps(_ overlaps: [(storeId: String, seq: Int64, amountMinor: Int64)]) async throws {
        guard !overlaps.isEmpty else { return }
        try await pool.write { db in
            for overlap in overlaps {
                try db.execute(
                    sql: """
                        INSERT INTO hq_return_overlaps (store_id, seq, amount_minor) VALUES (?, ?, ?)
                        ON CONFLICT (store_id, seq) DO UPDATE SET amount_minor = excluded.amount_minor
                        """,
                    arguments: [overlap.storeId, overlap.seq, overlap.amountMinor])
            }
        }
    }

    public func reconciliations() async throws -> [ReconciliationRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: ReconciliationQueries.report).map {
                ReconciliationQueries.record(
                    key: $0[0], card: $0[1], points: $0[2], reason: $0[3], at: $0[4], by: $0[5])
            }
        }
    }
}
