import ArgumentParser
import LedgerStore
import LoyaltyCore

/// Coupons the program issues (a welcome coupon, an offer for high-potential new members): use one on
/// a sale, list a member's.
struct Coupons: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coupon", abstract: "Coupons issued by the program: use one on a sale, list a member's.",
        subcommands: [Use.self, List.self])

    struct Use: LedgerCommand {
        static let configuration = CommandConfiguration(
            abstract: "Use a coupon on a sale: once, at any store; the till applies the printed discount.",
            discussion: """
                A retry with the same receipt prints the original result. A coupon used before, voided (its sale was \
                refunded) or expired is refused (exit 1). Two stores accepting one coupon while offline is recorded \
                and shown at head office (`loyalty-hq report coupons`).
                """)
        @Argument(help: "The coupon code, e.g. WELCOME-KQZXBMTRWAHPLE.") var code: String
        @Option(help: ArgumentHelp("The card of the member the coupon was issued to (scanned at the till).", valueName: "card"))
        var card: String
        @Option(help: ArgumentHelp("The POS receipt reference of the member's sale.", valueName: "ref")) var receipt: String
        @OptionGroup var global: GlobalOptions

        func execute(_ ledger: LedgerDatabase) throws -> CommandOutput {
            let result = try ledger.useCoupon(code: code, card: try global.memberCard(card), receipt: try ReceiptReference(receipt))
            let human =
                result.replayed
                ? "Already used on receipt \(result.receipt): coupon \(result.code), discount \(result.discount) \(result.currency). Nothing new was written."
                : "Coupon \(result.code) used on receipt \(result.receipt): discount \(result.discount) \(result.currency) (card \(result.card))."
            return CommandOutput(json: result, human: human)
        }
    }

    struct List: LedgerCommand {
        static let configuration = CommandConfiguration(abstract: "The coupons of the member holding CARD that this till knows.")
        @Argument(help: "Any card of the member.") var card: String
        @OptionGroup var global: GlobalOptions

        struct Result: Encodable {
            var card: String
            var coupons: [CouponView]
        }

        func execute(_ ledger: LedgerDatabase) throws -> CommandOutput {
            let member = try ledger.member(card: try global.memberCard(card))
            let lines = member.coupons.map { "  \($0.code)  \($0.discount) \(member.currency)  \($0.status)  until \($0.expiresAt)" }
            return CommandOutput(
                json: Result(card: member.card, coupons: member.coupons),
                human: member.coupons.isEmpty ? "No coupons for card \(member.card)." : (["Coupons of card \(member.card):"] + lines).joined(separator: "\n"))
        }
    }
}
