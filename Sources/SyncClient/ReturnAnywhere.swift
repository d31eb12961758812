public import Foundation
public import LedgerStore
public import LoyaltyCore
public import SyncProtocol

/// A return at any store: a sale this ledger holds is returned here as always; a sale another store
/// made is looked up at head office (what it earned per line and what every store's returns took) and
/// returned here, which needs head office to be reachable. A retried return answers from the ledger.
public struct ReturnAnywhere: Sendable {
    public let ledger: LedgerDatabase
    /// Head office, when this till has one configured.
    public let headOffice: SyncClient?

    public init(ledger: LedgerDatabase, headOffice: SyncClient?) {
        self.ledger = ledger
        self.headOffice = headOffice
    }

    /// - Parameter soldAt: the store that sold, when the receipt reference alone is ambiguous in the chain.
    public func refund(
        receipt: ReceiptReference, soldAt: String?, amount: Money?, lines: [LineReturn]?,
        returnReceipt: ReceiptReference?,
        at now: Date = Date()
    ) async throws -> RefundResult {
        let ownStore = headOffice?.settings.storeId
        if soldAt == nil || soldAt == ownStore, try ledger.holdsSale(receipt: receipt) {
            // This store's sale: returned offline if need be; when head office answers, with what returns at
            // other stores already took of it (so "all that remains" is what remains chain-wide).
            var elsewhere: SoldElsewhere?
            if let headOffice, let ownStore, try ledger.saleMayBeReturnedElsewhere(receipt: receipt) {
                elsewhere = try? await headOffice.saleElsewhere(receipt: receipt.value, soldAt: ownStore).sold(receipt)
            }
            return try ledger.refund(
                receipt: receipt, amount: amount, lines: lines, returnReceipt: returnReceipt, elsewhere: elsewhere,
                at: now)
        }
        if let replay = try ledger.returnElsewhereReplay(receipt: receipt, returnReceipt: returnReceipt, amount: amount)
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
        } catch SyncFailure.refused(let status, let code, let message) where status == 404 || status == 409 {
            throw LoyaltyError.refused(code, message)
        } catch let failure as SyncFailure {
            throw LoyaltyError.refused(
                "head_office_unreachable",
                "no sale with receipt \(receipt) is in this store's ledger, and a return of another store's sale needs head "
                    + "office, which did not answer (\(failure)); take the return when head office is back, or at the store that sold"
            )
        }
        let result = try ledger.refundElsewhere(
            sale.sold(receipt), amount: amount, lines: lines, returnReceipt: returnReceipt, at: now)
        // Sent at once, so the next return of the sale anywhere counts this one; if it fails the sync loop sends it.
        _ = try? await headOffice.syncOnce()
        return result
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
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
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
            })
    }
}
