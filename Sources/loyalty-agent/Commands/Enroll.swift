import ArgumentParser
import LedgerStore
import LoyaltyCore

struct Enroll: AsyncLedgerCommand {
    static let configuration = CommandConfiguration(abstract: "Enrol a new member holding CARD.")

    @Argument(help: "The member card number (as scanned or typed).") var card: String
    @Option(help: "The member's name.") var name: String?
    @Option(help: ArgumentHelp("The member's birthday.", valueName: "YYYY-MM-DD")) var birthday: String?
    @Option(
        help: ArgumentHelp(
            "The card of the member who referred them (head office counts referrals).", valueName: "card"))
    var referredBy: String?
    @OptionGroup var sync: SyncOptions
    @OptionGroup var global: GlobalOptions

    func execute(_ ledger: LedgerDatabase) async throws -> CommandOutput {
        let card = try global.memberCard(card)
        let name = try name.map(MemberName.validated)
        let birthday = try birthday.map(CalendarDate.init(parsing:))
        let referrer = try referredBy.map { try global.memberCard($0) }
        // A card this till does not know may be another store's member (`--pull-scope store`): head office first.
        await sync.learnBeforeDeciding(ledger: ledger, cards: [card])
        let result = try ledger.enroll(card: card, name: name, birthday: birthday, referredBy: referrer)
        return CommandOutput(
            json: result,
            human: (result.replayed
                ? "Already enrolled (nothing changed): card \(result.card) is member"
                : "Enrolled card \(result.card) as member")
                + " \(result.memberId)\(name.map { " (\($0))" } ?? ""): tier \(result.tier), balance \(result.balance) points."
                + (result.enrolmentBonus.map { " Includes the enrolment bonus of \($0) points." } ?? "")
                + (referrer.map { " Referred by card \($0.value)." } ?? "")
                + (result.couponsIssued.map { " Coupons issued: \($0.joined(separator: ", "))." } ?? ""))
    }
}
