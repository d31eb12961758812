import ArgumentParser
import LedgerStore
import LoyaltyCore

struct Member: LedgerCommand {
    static let configuration = CommandConfiguration(abstract: "Show a member: balance, tier, cards and recent entries.")

    @Argument(help: "The member card number.") var card: String
    @Option(help: "How many recent entries to show.") var recent: Int = 10
    @OptionGroup var global: GlobalOptions

    func execute(_ ledger: LedgerDatabase) throws -> CommandOutput {
        let card = try global.memberCard(card)
        guard (0...1000).contains(recent) else {
            throw LoyaltyError.badInput("bad_option", "--recent takes 0 to 1000")
        }
        let view = try ledger.member(card: card, recentLimit: recent)
        var lines = [
            "Member \(view.memberId)\(view.name.map { " — \($0)" } ?? "") (card \(view.card)\(view.cardStatus == "active" ? "" : ", \(view.cardStatus.uppercased())"))",
            "  balance       \(view.balance) points\(view.headOfficeBalance.map { " (head office \($0) + this store's newer entries)" } ?? " (this store's ledger; not yet synced)")",
            "  tier          \(view.tier) " + Self.tierProgress(view)
                + (view.tierBenefits.isEmpty ? "" : "\n  benefits      " + view.tierBenefits.joined(separator: "; ")),
            "  cards         \(view.cards.joined(separator: ", "))",
            "  enrolled      \(view.enrolledAt)",
        ]
        if let birthday = view.birthday {
            lines.append("  birthday      \(birthday)\(view.birthdayThisWeek ? " — birthday this week!" : "")")
        }
        for flag in view.flags {
            lines.append("  note          \(MemberFlag(rawValue: flag)?.advice ?? flag)")
        }
        if !view.recentEntries.isEmpty {
            lines.append("  recent entries (newest first):")
            for entry in view.recentEntries {
                lines.append(
                    "    #\(entry.seq)  \(entry.at)  \(entry.kind.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)) \(entry.points >= 0 ? "+" : "")\(entry.points) pts  amount \(entry.amount) \(view.currency)  receipt \(entry.receipt)  → \(entry.balanceAfter)")
            }
        }
        if !view.headOfficeEntries.isEmpty {
            lines.append("  from head office (newest first):")
            for entry in view.headOfficeEntries {
                lines.append(
                    "    \(entry.at.map { "\($0)  " } ?? "")\(entry.kind.rawValue) \(entry.points >= 0 ? "+" : "")\(entry.points) pts  "
                        + entry.reason)
            }
        }
        return CommandOutput(json: view, human: lines.joined(separator: "\n"))
    }

    /// `(12-month spend 42.00 EUR) — 458.00 EUR more to silver`, or in points when tiers count points.
    static func tierProgress(_ view: MemberView) -> String {
        if view.tiersBy == TierBasis.points.rawValue {
            return "(12-month points earned \(view.rollingPointsEarned))"
                + (view.nextTier.map { " — \(view.pointsToNextTier ?? 0) more points to \($0)" } ?? "")
        }
        return "(12-month spend \(view.rollingSpend) \(view.currency))"
            + (view.nextTier.map { " — \(view.spendToNextTier ?? "") \(view.currency) more to \($0)" } ?? "")
    }
}
