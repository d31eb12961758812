/// Decides what an import adds, against what head office already holds for the file's receipts.
/// Idempotent: a line already imported (or repeated in the file) changes nothing; a receipt the
/// store's own ledger already sent is left to the ledger.
struct HistoryImportPlan {
    struct ReceiptKey: Hashable, Comparable {
        var storeId: String
        var receipt: String
        static func < (lhs: Self, rhs: Self) -> Bool { (lhs.storeId, lhs.receipt) < (rhs.storeId, rhs.receipt) }
    }

    /// An imported line already stored.
    struct Stored: Hashable {
        var card: String
        var atMilliseconds: Int64
        var amountMinor: Int64
    }

    var sales: [HistoryRow] = []
    var refunds: [HistoryRow] = []
    var summary = HistoryImportSummary()

    /// - Parameters:
    ///   - storedSales: imported sales already at head office, for the file's receipts.
    ///   - storedRefunds: imported refunds already at head office, for the file's receipts.
    ///   - ledgerCards: for the file's receipts that stores' ledgers already delivered as sales, every card of the
    ///     members those sales were for. A receipt is left to the ledger only when the file's line is one of those
    ///     members' (found by attack: another member's sale on a receipt number the old system also used made
    ///     the import drop the old sale).
    static func make(
        _ rows: [HistoryRow], storedSales: [ReceiptKey: Stored], storedRefunds: [ReceiptKey: [Stored]],
        ledgerCards: [ReceiptKey: Set<String>]
    ) throws(HistoryImportError) -> HistoryImportPlan {
        var plan = HistoryImportPlan()
        var problems: [HistoryImportError.Problem] = []
        let byReceipt = Dictionary(grouping: rows) { ReceiptKey(storeId: $0.storeId, receipt: $0.receipt) }
        for key in byReceipt.keys.sorted() {
            let lines = byReceipt[key]!.sorted { $0.line < $1.line }
            if let cards = ledgerCards[key], lines.contains(where: { cards.contains($0.card) }) {
                plan.summary.inLedger += lines.count
                continue
            }
            var sale = storedSales[key].map { (stored: $0, line: 0) }
            for row in lines where !row.isRefund {
                let candidate = Stored(card: row.card, atMilliseconds: row.atMilliseconds, amountMinor: row.amountMinor)
                if let existing = sale {
                    if existing.stored == candidate {
                        plan.summary.alreadyImported += 1
                    } else {
                        let earlier = existing.line == 0 ? "an earlier import" : "line \(existing.line)"
                        problems.append(.init(
                            line: row.line,
                            message: "receipt \(key.receipt) at store \(key.storeId) already has a different sale (\(earlier))"))
                    }
                } else {
                    sale = (candidate, row.line)
                    plan.sales.append(row)
                }
            }
            var refunded = Set(storedRefunds[key] ?? [])
            var refundedTotal = refunded.reduce(Int64(0)) { $0 - $1.amountMinor }
            for row in lines where row.isRefund {
                guard let sale else {
                    problems.append(.init(
                        line: row.line,
                        message: "refund of receipt \(key.receipt) at store \(key.storeId), which has no sale in this file or earlier imports"))
                    continue
                }
                let refund = Stored(card: row.card, atMilliseconds: row.atMilliseconds, amountMinor: row.amountMinor)
                if refunded.contains(refund) {
                    plan.summary.alreadyImported += 1
                    continue
                }
                if row.card != sale.stored.card {
                    problems.append(.init(line: row.line, message: "the refund names another card than the sale of receipt \(key.receipt)"))
                } else if row.atMilliseconds < sale.stored.atMilliseconds {
                    problems.append(.init(line: row.line, message: "the refund of receipt \(key.receipt) is dated before its sale"))
                } else if refundedTotal - row.amountMinor > sale.stored.amountMinor {
                    problems.append(.init(
                        line: row.line,
                        message: "refunds of receipt \(key.receipt) would exceed its sale (\(refundedTotal - row.amountMinor) > \(sale.stored.amountMinor) minor units)"))
                } else {
                    refunded.insert(refund)
                    refundedTotal -= row.amountMinor
                    plan.refunds.append(row)
                }
            }
        }
        guard problems.isEmpty else { throw HistoryImportError(problems.sorted { $0.line < $1.line }) }
        plan.summary.sales = plan.sales.count
        plan.summary.refunds = plan.refunds.count
        return plan
    }
}
