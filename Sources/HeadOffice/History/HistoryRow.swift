public import Foundation
public import LoyaltyCore

/// One line of a history import: a sale (positive amount) or a refund of that receipt (negative).
public struct HistoryRow: Hashable, Sendable {
    /// 1-based line of the file, for error messages.
    public var line: Int
    public var card: String
    public var storeId: String
    public var receipt: String
    public var atMilliseconds: Int64
    /// Signed: negative refunds part or all of the receipt's sale.
    public var amountMinor: Int64

    public init(line: Int, card: String, storeId: String, receipt: String, atMilliseconds: Int64, amountMinor: Int64) {
        self.line = line
        self.card = card
        self.storeId = storeId
        self.receipt = receipt
        self.atMilliseconds = atMilliseconds
        self.amountMinor = amountMinor
    }

    public var isRefund: Bool { amountMinor < 0 }
}

/// A file that could not be imported: every bad line with its reason. Nothing was imported.
public struct HistoryImportError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Problem: Hashable, Sendable {
        public var line: Int
        public var message: String
    }

    public var problems: [Problem]

    public init(_ problems: [Problem]) { self.problems = problems }

    public static func line(_ line: Int, _ message: String) -> HistoryImportError { HistoryImportError([Problem(line: line, message: message)]) }

    /// The first 20 problems, one per line.
    public var description: String {
        let shown = problems.prefix(20).map { "line \($0.line): \($0.message)" }
        let more = problems.count > 20 ? ["… and \(problems.count - 20) more"] : []
        return (shown + more).joined(separator: "\n")
    }
}

/// What an import changed.
public struct HistoryImportSummary: Codable, Hashable, Sendable {
    public var sales = 0
    public var refunds = 0
    /// Lines already imported earlier (or twice in the file): nothing changed for them.
    public var alreadyImported = 0
    /// Lines whose receipt the store's own ledger already holds at head office: the ledger wins.
    public var inLedger = 0
    public var membersCreated = 0

    public init() {}
}
