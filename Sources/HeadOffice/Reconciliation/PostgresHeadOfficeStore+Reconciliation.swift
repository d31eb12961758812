import Foundation
import LoyaltyCore
import PostgresNIO

extension PostgresHeadOfficeStore {
    /// The members holding the cards bound as `$1` by ``cardQuery(_:_:)`` (the queries' `member_id \(…)`).
    static let membersOfCards = "IN (SELECT member_id FROM hq_cards WHERE card = ANY($1))"

    static func cardQuery(_ sql: String, _ cards: [String]) throws -> PostgresQuery {
        var bindings = PostgresBindings()
        try bindings.append(cards)
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    public func grantFacts(cards: [String]) async throws -> [MemberGrantFacts] {
        let members = Self.membersOfCards
        let logger = self.logger
        func query(_ sql: String) throws -> PostgresQuery { try Self.cardQuery(sql, cards) }
        return try await client.withConnection { connection in
            var folder = ReconciliationQueries.Folder()
            for try await (id, card, firstImportedSale) in try await connection.query(
                try query(ReconciliationQueries.members(members: members)), logger: logger
            ).decode((Int64, String, Int64?).self) {
                folder.member(id: id, card: card, firstImportedSale: firstImportedSale)
            }
            for try await (memberId, storeId, reason, points, at) in try await connection.query(
                try query(ReconciliationQueries.paid(members: members)), logger: logger
            ).decode((Int64, String, String, Int64, Int64).self) {
                folder.paid(memberId: memberId, storeId: storeId, reason: reason, points: points, at: at)
            }
            for try await (memberId, key, points) in try await connection.query(
                try query(ReconciliationQueries.corrections(members: members)), logger: logger
            ).decode((Int64, String, Int64).self) {
                folder.correction(memberId: memberId, key: key, points: points)
            }
            for try await (memberId, kind, storeId, seq, at, rule) in try await connection.query(
                try query(ReconciliationQueries.events(members: members)), logger: logger
            ).decode((Int64, String, String, Int64, Int64, Int).self) {
                folder.event(memberId: memberId, kind: kind, storeId: storeId, seq: seq, at: at, ruleVersion: rule)
            }
            for try await (memberId, _, referrerId, referrerCard, paid, corrected, corrections, referred, merged, still)
                in try await connection.query(
                    try query(ReconciliationQueries.referrals(members: members)), logger: logger
                ).decode((Int64, String, Int64, String, Int64, Int64, Int64, String, Bool, Bool).self)
            {
                folder.referral(
                    memberId: memberId, referrerMemberId: referrerId, referrerCard: referrerCard, paid: paid,
                    corrected: corrected, corrections: corrections, referredCard: referred, takenBackByMerge: merged,
                    stillReferred: still)
            }
            folder.finish()
            return Array(folder.facts.values)
        }
    }

    public func recordSalePrices(_ prices: [(saleKey: String, fullDelta: Int64)]) async throws {
        let parsed = prices.compactMap { price -> (String, Int64, Int64)? in
            guard let colon = price.saleKey.lastIndex(of: ":"), let seq = Int64(price.saleKey[price.saleKey.index(after: colon)...])
            else { return nil }
            return (String(price.saleKey[..<colon]), seq, price.fullDelta)
        }
        guard !parsed.isEmpty else { return }
        try await client.query(
            """
            INSERT INTO hq_sale_prices (store_id, seq, full_delta)
            SELECT * FROM UNNEST(\(parsed.map(\.0))::text[], \(parsed.map(\.1))::bigint[], \(parsed.map(\.2))::bigint[])
            ON CONFLICT (store_id, seq) DO UPDATE SET full_delta = excluded.full_delta
            """, logger: logger)
    }

    public func salePricingFacts(cards: [String]) async throws -> [MemberSaleFacts] {
        let members = Self.membersOfCards
        let logger = self.logger
        func query(_ sql: String) throws -> PostgresQuery { try Self.cardQuery(sql, cards) }
        return try await client.withConnection { connection in
            var folder = SaleRepricingQueries.Folder()
            for try await (id, card, birthday, flags, floor, reviewedAt, birthdayAt) in try await connection.query(
                try query(SaleRepricingQueries.members(members: members)), logger: logger
            ).decode((Int64, String, String?, String?, String?, Int64?, Int64?).self) {
                folder.member(
                    id: id, card: card, birthday: birthday, flags: flags, reviewFloor: floor, reviewedAt: reviewedAt,
                    birthdayAt: birthdayAt)
            }
            for try await (memberId, store, seq, receipt, at, stated, base, tier, rule, amount, returned, points, birthday, taken, last)
                in try await connection.query(
                    try query(SaleRepricingQueries.sales(members: members)), logger: logger
                ).decode(
                    (Int64, String, Int64, String, Int64, Int64, Int64, String, Int, Int64, Int64, Int64, Int64?, Int64, Int64?)
                        .self)
            {
                var sale = SaleRepricing.Sale(
                    key: "\(store):\(seq)", receipt: receipt, atMilliseconds: at, statedAtMilliseconds: stated,
                    base: base, pricedTier: tier, ruleVersion: rule, amountMinor: amount, returnedMinor: returned,
                    points: points, returnedPoints: taken)
                sale.pricedBirthday = birthday.map { $0 == 1 }
                sale.lastReturnAtMilliseconds = last
                folder.sale(memberId: memberId, sale)
            }
            for try await (memberId, kind, points, amount, at, known) in try await connection.query(
                try query(SaleRepricingQueries.rows(members: members)), logger: logger
            ).decode((Int64, String, Int64, Int64, Int64, Int64).self) {
                folder.row(
                    memberId: memberId,
                    .init(kind: kind, points: points, amountMinor: amount, atMilliseconds: at, knownAtMilliseconds: known))
            }
            for try await (memberId, key, points, at) in try await connection.query(
                try query(SaleRepricingQueries.corrections(members: members)), logger: logger
            ).decode((Int64, String, Int64, Int64).self) {
                folder.correction(memberId: memberId, key: key, points: points, at: at)
            }
            return Array(folder.facts.values)
        }
    }

    public func dayCapFacts(cards: [String]) async throws -> [MemberDayCapFacts] {
        let members = Self.membersOfCards
        let logger = self.logger
        func query(_ sql: String) throws -> PostgresQuery { try Self.cardQuery(sql, cards) }
        return try await client.withConnection { connection in
            var folder = DayCapQueries.Folder()
            for try await (memberId, card, storeId, seq, at, points, rule, beforeCaps, amount) in try await connection.query(
                try query(DayCapQueries.sales(members: members)), logger: logger
            ).decode((Int64, String, String, Int64, Int64, Int64, Int, Int64?, Int64).self) {
                folder.sale(
                    memberId: memberId, card: card, storeId: storeId, seq: seq, at: at, points: points, rule: rule,
                    pointsBeforeCaps: beforeCaps, amountMinor: amount)
            }
            for try await (_, storeId, saleSeq, at, points, amount) in try await connection.query(
                try query(DayCapQueries.refunds(members: members)), logger: logger
            ).decode((Int64, String, Int64, Int64, Int64, Int64).self) {
                folder.refund(storeId: storeId, saleSeq: saleSeq, at: at, points: points, amountMinor: amount)
            }
            for try await (memberId, key, points) in try await connection.query(
                try query(DayCapQueries.corrections(members: members)), logger: logger
            ).decode((Int64, String, Int64).self) {
                folder.correction(memberId: memberId, key: key, points: points)
            }
            for try await (_, key, points) in try await connection.query(
                try query(DayCapQueries.returnCorrections(members: members)), logger: logger
            ).decode((Int64, String, Int64).self) {
                folder.returnCorrection(key: key, points: points)
            }
            for try await (_, key, points, _) in try await connection.query(
                try query(DayCapQueries.priceCorrections(members: members)), logger: logger
            ).decode((Int64, String, Int64, Int64).self) {
                folder.priceCorrection(key: key, points: points)
            }
            for try await (sale, full) in try await connection.query(
                try query(DayCapQueries.salePrices(members: members)), logger: logger
            ).decode((String, Int64).self) {
                folder.salePrice(sale: sale, fullDelta: full)
            }
            return Array(folder.facts.values)
        }
    }

    public func returnFacts(cards: [String]) async throws -> [SaleReturnFacts] {
        let members = Self.membersOfCards
        let logger = self.logger
        func query(_ sql: String) throws -> PostgresQuery { try Self.cardQuery(sql, cards) }
        return try await client.withConnection { connection in
            var folder = ReturnReconciliationQueries.Folder()
            for try await (memberId, card, storeId, seq, receipt, amount, points, lines, redeemSeq, redeemed)
                in try await connection.query(
                    try query(ReturnReconciliationQueries.sales(members: members)), logger: logger
                ).decode((Int64, String, String, Int64, String, Int64, Int64, String?, Int64?, Int64).self)
            {
                folder.sale(
                    memberId: memberId, card: card, storeId: storeId, seq: seq, receipt: receipt, amount: amount,
                    points: points,
                    linesText: lines, redeemSeq: redeemSeq, redeemed: redeemed)
            }
            guard !folder.facts.isEmpty else { return [] }
            for try await (saleStore, saleSeq, amount, points, lines, store, at) in try await connection.query(
                try query(ReturnReconciliationQueries.returns(members: members)), logger: logger
            ).decode((String, Int64, Int64, Int64, String?, String, Int64).self) {
                folder.refund(
                    saleStore: saleStore, saleSeq: saleSeq, amount: amount, points: points, linesText: lines, by: store,
                    at: at)
            }
            for try await (_, key, points) in try await connection.query(
                try query(ReturnReconciliationQueries.corrections(members: members)), logger: logger
            ).decode((Int64, String, Int64).self) {
                folder.correction(key: key, points: points)
            }
            return Array(folder.facts.values)
        }
    }

    public func recordReturnOverlaps(_ overlaps: [(storeId: String, seq: Int64, amountMinor: Int64)]) async throws {
        guard !overlaps.isEmpty else { return }
        try await client.query(
            """
            INSERT INTO hq_return_overlaps (store_id, seq, amount_minor)
            SELECT * FROM UNNEST(\(overlaps.map(\.storeId))::text[], \(overlaps.map(\.seq))::bigint[],
                                 \(overlaps.map(\.amountMinor))::bigint[])
            ON CONFLICT (store_id, seq) DO UPDATE SET amount_minor = excluded.amount_minor
            """, logger: logger)
    }

    public func reconciliations() async throws -> [ReconciliationRecord] {
        let logger = self.logger
        return try await client.withConnection { connection in
            var records: [ReconciliationRecord] = []
            for try await (key, card, points, reason, at, by) in try await connection.query(
                PostgresQuery(unsafeSQL: ReconciliationQueries.report), logger: logger
            ).decode((String, String, Int64, String, Int64, String).self) {
                records.append(
                    ReconciliationQueries.record(key: key, card: card, points: points, reason: reason, at: at, by: by))
            }
            return records
        }
    }
}
