import Foundation
import GRDB
import LoyaltyCore

/// What a return was asked for and what the till answered that its entries alone do not say, kept on the
/// return's first entry: a retry with the same return reference must ask the same (else
/// `receipt_conflict`), and is answered the same.
struct ReturnAnswer: Codable, Equatable {
    /// The request in one canonical text: `all`, `amount:N`, or `lines:SKU=N,…` sorted by SKU.
    var request: String
    var fullyRefunded: Bool
    /// The store a return of another store's sale named (nil: found by receipt, or this store's own).
    var soldAt: String?

    enum CodingKeys: String, CodingKey {
        case request
        case fullyRefunded = "fully_refunded"
        case soldAt = "sold_at"
    }

    static func request(amount: Money?, lines: [LineReturn]?) -> String {
        if let lines {
            return "lines:" + lines.map { "\($0.sku)=\($0.amountMinor)" }.sorted().joined(separator: ",")
        }
        return amount.map { "amount:\($0.minorUnits)" } ?? "all"
    }

    var stored: String {
        // Plain strings and a flag: encoding cannot fail.
        String(decoding: try! JSONEncoder().encode(self), as: UTF8.self)
    }

    init(request: String, fullyRefunded: Bool, soldAt: String? = nil) {
        self.request = request
        self.fullyRefunded = fullyRefunded
        self.soldAt = soldAt
    }

    init?(stored: String?) {
        guard let stored, let answer = try? JSONDecoder().decode(ReturnAnswer.self, from: Data(stored.utf8)) else {
            return nil
        }
        self = answer
    }

    /// Refuses a retry that asks for another return than the first did.
    static func requireSame(
        as stored: ReturnAnswer?, request: String, refundedMinor: Int64, amount: Money?, lines: [LineReturn]?,
        returnId: String, receipt: ReceiptReference, currency: Currency
    ) throws {
        let conflict: Bool
        if let stored {
            conflict = stored.request != request
        } else {
            // Returns recorded before the request was kept: the amount is what can be compared.
            let asked = amount?.minorUnits ?? lines.map { $0.reduce(0) { $0 + $1.amountMinor } }
            conflict = asked.map { $0 != refundedMinor } ?? false
        }
        if conflict {
            throw LoyaltyError.refused(
                "receipt_conflict",
                "return \(returnId) of receipt \(receipt) already refunded \(Money(minorUnits: refundedMinor, currency: currency)) "
                    + "for another request; a different return needs a new return reference")
        }
    }
}

/// What a recorded return did, summed from its entries (columns `points`, `amount_minor`, `sale_answer` and
/// `bonus`, true for a bonus taken back): a retry under the same return reference answers with it.
struct RecordedReturn {
    var refundedMinor: Int64
    var reversedPoints: Int64
    var restoredPoints: Int64
    var reversedBonusPoints: Int64
    var answer: ReturnAnswer?

    init(_ rows: [Row]) {
        func sum(_ keep: (Row) -> Bool) -> Int64 { rows.filter(keep).reduce(0) { $0 + ($1["points"] as Int64) } }
        refundedMinor = -rows.reduce(0) { $0 + ($1["amount_minor"] as Int64) }
        reversedPoints = sum { ($0["points"] as Int64) < 0 && !$0["bonus"] }
        restoredPoints = sum { ($0["points"] as Int64) > 0 }
        reversedBonusPoints = sum { $0["bonus"] }
        answer = rows.lazy.compactMap { ReturnAnswer(stored: $0["sale_answer"]) }.first
    }

    /// Refuses a retry that asks for another return than this one.
    func requireSame(
        amount: Money?, lines: [LineReturn]?, returnId: String, receipt: ReceiptReference, currency: Currency
    ) throws {
        try ReturnAnswer.requireSame(
            as: answer, request: ReturnAnswer.request(amount: amount, lines: lines), refundedMinor: refundedMinor,
            amount: amount, lines: lines, returnId: returnId, receipt: receipt, currency: currency)
    }
}
