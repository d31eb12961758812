/// A request the loyalty domain will not carry out, with a message that tells the cashier what to do.
///
/// The categories map to the agent's exit codes: ``Category/badInput`` (malformed input, exit 2),
/// ``Category/refused`` (well-formed, but the program's rules say no, exit 1) and
/// ``Category/unavailable`` (it needs head office, which did not answer, exit 4).
public struct LoyaltyError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Category: String, Sendable, Codable {
        /// The input is malformed: fix the input and try again.
        case badInput = "bad_input"
        /// The input is well-formed but the program's rules refuse it.
        case refused
        /// It needs head office, which did not answer: try again when it does.
        case unavailable
    }

    public var category: Category
    /// A stable machine-readable code, e.g. `unknown_card`, `over_balance`.
    public var code: String
    /// A sentence for a person: what is wrong and what to do next.
    public var message: String

    public init(_ category: Category, code: String, _ message: String) {
        self.category = category
        self.code = code
        self.message = message
    }

    public static func badInput(_ code: String, _ message: String) -> LoyaltyError {
        LoyaltyError(.badInput, code: code, message)
    }

    public static func refused(_ code: String, _ message: String) -> LoyaltyError {
        LoyaltyError(.refused, code: code, message)
    }

    public static func unavailable(_ code: String, _ message: String) -> LoyaltyError {
        LoyaltyError(.unavailable, code: code, message)
    }

    public var description: String { message }
}
