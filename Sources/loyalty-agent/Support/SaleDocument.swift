import Foundation
import LoyaltyCore

/// A sale handed to `award --sale FILE` (or `-` for stdin) as JSON, the way a POS application
/// exports it: `{"amount": "12.50", "lines": [{"sku": "…", "category": "fresh", "amount": "3.49"}]}`.
/// Amounts are decimal strings, never floating point.
struct SaleDocument: Decodable {
    struct Line: Decodable {
        var sku: String
        var category: String
        var amount: String
    }

    var amount: String?
    var lines: [Line]?

    /// A sale file is small; anything larger is not a sale.
    static let maximumBytes = 1 << 20

    static func read(_ source: String) throws -> SaleDocument {
        let data: Data
        if source == "-" {
            data = FileHandle.standardInput.readData(ofLength: maximumBytes + 1)
        } else {
            guard let contents = FileManager.default.contents(atPath: source) else {
                throw LoyaltyError.badInput("bad_sale", "cannot read the sale file \(source); give a readable file or '-' for stdin")
            }
            data = contents
        }
        guard data.count <= maximumBytes else { throw LoyaltyError.badInput("bad_sale", "a sale document is at most 1 MiB") }
        do {
            return try JSONDecoder().decode(SaleDocument.self, from: data)
        } catch DecodingError.keyNotFound(let key, let context) {
            throw LoyaltyError.badInput("bad_sale", "the sale JSON lacks \(path(context.codingPath + [key]))")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            throw LoyaltyError.badInput(
                "bad_sale", "the sale JSON's \(path(context.codingPath)) has the wrong type (amounts are strings like \"3.49\")")
        } catch {
            throw LoyaltyError.badInput("bad_sale", "the sale is not JSON like {\"amount\": \"12.50\", \"lines\": [...]}")
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
    }
}
