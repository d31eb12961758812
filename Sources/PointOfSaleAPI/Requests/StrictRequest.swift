import Foundation
import LoyaltyCore

/// A request body whose fields are known: a field the endpoint does not take is refused with the
/// fields it does take (a typo such as `ammount` must not be ignored while the sale goes through with
/// another amount), and a field of the wrong form is named with the form it takes.
protocol StrictRequest: Decodable {
    /// The body's fields, as sent (snake_case).
    static var fields: [String] { get }
    /// The fields of objects in an array field (e.g. a sale's `lines`), by the array's name.
    static var nestedFields: [String: [String]] { get }
}

extension StrictRequest {
    static var nestedFields: [String: [String]] { [:] }
}

/// How each field is written, for the error that names it.
enum FieldForms {
    static let forms: [String: String] = [
        "amount": #"a decimal string like "12.50""#, "sale_amount": #"a decimal string like "12.50""#,
        "points": "a whole number of points like 100", "score": "a whole number from 1 to 5",
        "birthday": #"a date like "1990-04-23""#, "card": #"the card number as a string, like "2900000777774""#,
        "receipt": #"the POS receipt reference as a string, like "R-1001""#,
        "return_receipt": #"the return's receipt reference as a string, like "RET-1001""#,
        "lines": #"a list of lines like [{"sku": "A1", "category": "fresh", "amount": "3.49"}]"#,
    ]

    /// The problem with a body, in words that name the field: missing, of the wrong form, or not JSON.
    static func describe(_ error: DecodingError) -> LoyaltyError {
        func name(_ path: [any CodingKey], _ key: (any CodingKey)? = nil) -> String {
            let keys = path + (key.map { [$0] } ?? [])
            return keys.map { $0.intValue.map { "[\($0)]" } ?? snakeCase($0.stringValue) }
                .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        func form(_ field: String) -> String {
            let last = field.split(separator: ".").last.map(String.init) ?? field
            return forms[last.replacingOccurrences(of: #"\[[0-9]+\]"#, with: "", options: .regularExpression)] ?? "another form"
        }
        switch error {
        case .keyNotFound(let key, let context):
            let field = name(context.codingPath, key)
            return .badInput("missing_field", "`\(field)` is missing: it must be \(form(field))")
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            let field = name(context.codingPath)
            return .badInput("bad_field", "`\(field)` must be \(form(field))")
        case .dataCorrupted(let context) where !context.codingPath.isEmpty:
            let field = name(context.codingPath)
            return .badInput("bad_field", "`\(field)` must be \(form(field))")
        default:
            return .badInput("bad_request", "the body is not JSON: send one JSON object (see sync/pos-api.yaml)")
        }
    }

    /// Refuses fields the endpoint does not take, naming the first one and the fields it takes.
    static func refuseUnknownFields<T: StrictRequest>(_ type: T.Type, in data: Data) throws {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return }
        try refuse(Set(object.keys).subtracting(T.fields), known: T.fields, at: "")
        for (array, fields) in T.nestedFields {
            for (index, item) in ((object[array] as? [Any]) ?? []).enumerated() {
                guard let item = item as? [String: Any] else { continue }
                try refuse(Set(item.keys).subtracting(fields), known: fields, at: "\(array)[\(index)].")
            }
        }
    }

    private static func refuse(_ unknown: Set<String>, known: [String], at prefix: String) throws {
        guard let first = unknown.sorted().first else { return }
        let shown = first.count > 40 ? String(first.prefix(40)) + "…" : first
        throw LoyaltyError.badInput(
            "unknown_field",
            "`\(prefix)\(PaymentCardDetector.redacted(shown))` is not a field here; the fields are: "
                + known.joined(separator: ", "))
    }

    private static func snakeCase(_ name: String) -> String {
        var result = ""
        for character in name {
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }
}
