import ArgumentParser
import LedgerStore
import LoyaltyCore

struct Enroll: LedgerCommand {
    static let configuration = CommandConfiguration(abstract: "Enrol a new member holding CARD.")

    @Argument(help: "The member card number (as scanned or typed).") var card: String
    @Option(help: "The member's name.") var name: String?
    @Option(help: ArgumentHelp("The member's birthday.", valueName: "YYYY-MM-DD")) var birthday: String?
    @OptionGroup var global: GlobalOptions

    func execute(_ ledger: LedgerDatabase) throws -> CommandOutput {
        let card = try global.memberCard(card)
        let name = try name.map(MemberName.validated)
        let birthday = try birthday.map(CalendarDate.init(parsing:))
        let result = try ledger.enroll(card: card, name: name, birthday: birthday)
        return CommandOutput(
            json: result,
            human: "Enrolled card \(result.card) as member \(result.memberId)\(name.map { " (\($0))" } ?? ""): tier \(result.tier), balance 0 points.")
    }
}
