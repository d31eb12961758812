import ArgumentParser
import LedgerStore
import LoyaltyCore

/// A member's name or birthday changed at the till; head office and the other stores learn it.
struct Profile: LedgerCommand {
    static let configuration = CommandConfiguration(
        abstract: "Change a member's name and/or birthday (synced to head office; the newest change wins).")

    @Argument(help: "Any card of the member.") var card: String
    @Option(help: "The member's name.") var name: String?
    @Option(help: ArgumentHelp("The member's birthday.", valueName: "YYYY-MM-DD")) var birthday: String?
    @OptionGroup var global: GlobalOptions

    func execute(_ ledger: LedgerDatabase) throws -> CommandOutput {
        let card = try global.memberCard(card)
        let name = try name.map { try MemberName.validated($0) }
        let birthday = try birthday.map { try CalendarDate(parsing: $0) }
        let member = try ledger.updateProfile(card: card, name: name, birthday: birthday)
        return CommandOutput(
            json: member,
            human: "Member \(member.memberId): name \(member.name ?? "-"), birthday \(member.birthday ?? "-").")
    }
}
