public import Foundation
public import LedgerStore
public import LoyaltyCore
public import SyncProtocol

/// A return at any store: a sale this ledger holds is returned here as always (offline if need be); a
/// sale another store made is looked up at head office (what it earned per line and what every store's
/// returns took) and returned here, which needs head office. A retried return answers from the ledger.
public struct ReturnAnywhere: Sendable {
    public let ledger: LedgerDatabase
    /// Head office, when this till has one configured.
    public let headOffice: SyncClient?
    /// How long a return of this store's own sale waits for head office's view of it before it goes on from the
    /// ledger alone: the customer is at the counter, and the sale is in the ledger (found by review: a head office
    /// that accepted connections and never answered held every such return for two request timeouts, 30 s).
    public let ownSaleConsultMilliseconds: Int64

    public init(ledger: LedgerDatabase, headOffice: SyncClient?, ownSaleConsultMilliseconds: Int64 = 5_000) {
        precondition(ownSaleConsultMilliseconds > 0, "a positive wait")
        self.ledger = ledger
        self.headOffice = headOffice
        self.ownSaleConsultMilliseconds = ownSaleConsultMilliseconds
    }

    /// - Parameter soldAt: the store that sold, when the receipt reference alone is not unique in the chain.
    public func refund(
        receipt: ReceiptReference, soldAt: String?, amount: Money?, lines: [LineReturn]?,
        returnReceipt: ReceiptReference?,
        at now: Date = Date()
    ) async throws -> RefundResult {
        if let soldAt {
            guard (1...64).contains(soldAt.count),
                soldAt.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
            else {
                throw LoyaltyError.badInput(
                    "bad_store_id", "--sold-at takes a store id: 1 to 64 letters, digits, '-', '_' or '.'")
            }
        }
        let ownStore = ledger.assignedStoreId
        // A till names its store by the store's id too (`north` for `north.1`).
        let ownStoreNames = [ownStore, ownStore.flatMap { TillIdentity(ledgerName: $0)?.storeId }]
        if soldAt == nil || ownStoreNames.contains(soldAt), try ledger.holdsSale(receipt: receipt) {
            return try await refundOwnSale(
                receipt: receipt, named: soldAt != nil, amount: amount, lines: lines, returnReceipt: returnReceipt,
                at: now)
        }
        if let replay = try ledger.returnElsewhereReplay(
            receipt: receipt, returnReceipt: returnReceipt, amount: amount, lines: lines, soldAt: soldAt)
        {
            return replay
        }
        guard let headOffice else {
            throw LoyaltyError.refused(
                "unknown_receipt",
                "no sale with receipt \(receipt) is in this store's ledger; check the receipt reference (a return of another "
                    + "store's sale needs head office, and this till has none configured)")
        }
        let sale: SaleElsewhere
        do {
            // Our own backlog first: head office then counts every return this till took of the sale.
            _ = try await headOffice.syncOnce()
            sale = try await headOffice.saleElsewhere(receipt: receipt.value, soldAt: soldAt)
        } catch let failure as SyncFailure {
            throw Self.explain(failure, receipt: receipt)
        }
        if let problem = sale.problem {
            throw LoyaltyError.refused(
                "head_office_answer",
                "head office's description of receipt \(receipt) cannot be used (\(problem)); nothing was written")
        }
        // The member, when this till does not know them yet (`--pull-scope store`): the balance the cashier is told
        // is then the member's, not this return's alone (found by attack: "-80 points" for a member holding 300).
        if let card = try? CardNumber(sale.card) { try? await headOffice.learnMembersIfUnknown(cards: [card]) }
        let result = try ledger.refundElsewhere(
            sale.sold(receipt), amount: amount, lines: lines, returnReceipt: returnReceipt, at: now)
        // Sent at once, so the next return of the sale anywhere counts this one; if it fails the sync loop sends it.
        _ = try? await headOffice.syncOnce()
        return result
    }

    /// This store's own sale. When head office answers: first what it knows (our backlog up, the chain's
    /// view of the member down), then whether another store used the same receipt reference (the cashier
    /// must say which sale), and what returns at other stores already took of ours.
    private func refundOwnSale(
        receipt: ReceiptReference, named: Bool, amount: Money?, lines: [LineReturn]?, returnReceipt: ReceiptReference?,
        at now: Date
    ) async throws -> RefundResult {
        var elsewhere: SoldElsewhere?
        if let headOffice, let ownStore = ledger.assignedStoreId {
            elsewhere =
                try await Self.within(milliseconds: ownSaleConsultMilliseconds) {
                    try await Self.consult(headOffice, ownStore: ownStore, receipt: receipt, named: named)
                } ?? nil
        }
        return try ledger.refund(
            receipt: receipt, amount: amount, lines: lines, returnReceipt: returnReceipt, elsewhere: elsewhere, at: now)
    }

    /// Head office's view of this store's own sale: our backlog up first, then whether another store used the same
    /// receipt reference (throws `ambiguous_receipt`), then what returns elsewhere took of it. Nil when head office
    /// does not answer: the ledger's own view stands.
    private static func consult(
        _ headOffice: SyncClient, ownStore: String, receipt: ReceiptReference, named: Bool
    ) async throws -> SoldElsewhere? {
        guard (try? await headOffice.syncOnce()) != nil else { return nil }
        if !named {
            do {
                let other = try await headOffice.saleElsewhere(receipt: receipt.value, soldAt: nil)
                throw Self.ambiguous(receipt, stores: [ownStore, other.storeId])
            } catch SyncFailure.refused(_, let code, let message) where code == "ambiguous_receipt" {
                throw LoyaltyError.refused(
                    code,
                    message + "; this store (\(ownStore)) sold one too: --sold-at \(ownStore) returns this store's")
            } catch SyncFailure.refused(_, let code, _) where code == "unknown_receipt" {
                // Ours alone.
            } catch is SyncFailure {
                // Head office stopped answering: the store's own sale is returned by its own view.
            }
        }
        guard let sale = try? await headOffice.saleElsewhere(receipt: receipt.value, soldAt: ownStore),
            sale.problem == nil
        else { return nil }
        return sale.sold(receipt)
    }

    /// `body`'s result, or nil when it has not finished within `milliseconds` (it is then cancelled: a request
    /// in flight is abandoned, and nothing is marked synced without head office's answer).
    static func within<T: Sendable>(
        milliseconds: Int64, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T? {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .milliseconds(milliseconds))
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }

    static func ambiguous(_ receipt: ReceiptReference, stores: [String]) -> LoyaltyError {
        LoyaltyError.refused(
            "ambiguous_receipt",
            "stores \(stores.joined(separator: " and ")) each have a sale with receipt \(receipt): name the store that sold "
                + "(--sold-at, or sold_at in the POS API); this store's own is --sold-at \(stores[0])")
    }

    /// Head office's answer, or its silence, in the cashier's words.
    static func explain(_ failure: SyncFailure, receipt: ReceiptReference) -> LoyaltyError {
        switch failure {
        case .refused(_, let code, let message) where ["unknown_receipt", "ambiguous_receipt"].contains(code):
            return LoyaltyError.refused(code, message)
        case .refused(let status, let code, let message) where status == 400:
            return LoyaltyError.badInput(code, message)
        case .refused(_, let code, let message):
            return LoyaltyError.refused(
                "head_office_refused",
                "head office refused to describe receipt \(receipt) (\(code): \(message)); the return was not taken")
        case .unreachable, .headOfficeError:
            return LoyaltyError.unavailable(
                "head_office_unreachable",
                "no sale with receipt \(receipt) is in this store's ledger, and a return of another store's sale needs head "
                    + "office, which did not answer (\(failure)); take the return when head office is back, or at the store "
                    + "that sold")
        case .configuration(let message):
            return LoyaltyError.badInput("bad_configuration", message)
        }
    }
}

extension SyncClient {
    /// Another store's sale with `receipt`, as head office holds it (`GET /v1/stores/{id}/sales`).
    public func saleElsewhere(receipt: String, soldAt: String?) async throws -> SaleElsewhere {
        var query = "receipt=\(Self.queryValue(receipt))"
        if let soldAt { query += "&sold_at=\(Self.queryValue(soldAt))" }
        return try await send(.GET, path: "/v1/stores/\(settings.storeId)/sales?\(query)", body: Data(), gzip: false)
    }

    /// A query value percent-encoded: receipts may hold '&', '=', '+' or spaces.
    static func queryValue(_ text: String) -> String {
        var allowed = CharacterSet()
        allowed.insert(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

extension SaleElsewhere {
    /// Head office's description in the ledger's terms.
    func sold(_ receipt: ReceiptReference) -> SoldElsewhere {
        SoldElsewhere(
            storeId: storeId, receipt: receipt, card: card, currencyCode: currency, earnSeq: earnSeq,
            ruleVersion: ruleVersion,
            redeemSeq: redeemSeq, redeemCard: redeemCard, redeemRuleVersion: redeemRuleVersion,
            state: SaleRefundState(
                saleMinorUnits: amountMinor, earnedPoints: points, redeemedPoints: redeemedPoints,
                refundedMinorUnits: refundedMinor,
                reversedEarnPoints: reversedPoints, restoredRedeemPoints: restoredPoints),
            lines: (lines ?? []).map {
                SaleLineState(
                    sku: $0.sku, amountMinor: $0.amountMinor, points: $0.points, returnedMinor: $0.returnedMinor,
                    reversedPoints: $0.reversedPoints)
            },
            bonuses: (bonuses ?? []).map {
                SoldElsewhere.Bonus(seq: $0.seq, card: $0.card, points: $0.points, ruleVersion: $0.ruleVersion)
            })
    }
}
