import ArgumentParser
import Foundation
import HeadOffice
import LoyaltyCore

/// `loyalty-hq export welcome|win-back|birthday`: member lists for a messaging tool.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Member lists for a messaging tool (CSV by default, or --json): welcome, win-back, birthday, expiring.",
        discussion: """
            welcome: members who enrolled (or were first seen) in the last new_member_days days. \
            win-back: dormant members, with their last visit and store. \
            birthday: members whose birthday falls in the next --within-days days (default 7). \
            expiring: members whose points lapse in the next --within-days days (set it, e.g. 30), with the points.
            """)

    enum List: String, ExpressibleByArgument, CaseIterable { case welcome, winBack = "win-back", birthday, expiring }

    @Argument(help: "welcome | win-back | birthday | expiring") var list: List
    @Option(help: "For birthday: days ahead, counting the as-of day.") var withinDays = 7
    @OptionGroup var asOf: AsOfOption
    @OptionGroup var storage: StorageOptions

    func run() async throws {
        guard (1...366).contains(withinDays) else {
            throw CommandFailure(code: "bad_option", message: "--within-days takes 1 to 366", exitCode: 2)
        }
        if list == .expiring {
            try await ExpiringReport.table(storage, asOf: asOf.asOf, within: "\(withinDays)d").print(json: storage.json, csv: true)
            return
        }
        let context = try await AnalyticsContext.load(storage, asOf: asOf.asOf)
        let members: [MemberFacts]
        switch list {
        case .expiring:
            preconditionFailure("exported above")
        case .welcome:
            members = context.facts.filter {
                LifecycleAnalysis.stage($0, asOfDay: context.asOfDay, settings: context.settings) == .new
            }
        case .winBack:
            members = context.facts.filter {
                LifecycleAnalysis.stage($0, asOfDay: context.asOfDay, settings: context.settings) == .dormant
            }
        case .birthday:
            members = context.facts.filter { member in
                member.birthday.map { ChainCalendar.birthday($0, fallsWithin: withinDays, daysFrom: context.asOfDay) } ?? false
            }
        }
        struct Row: Encodable {
            var card: String
            var name: String?
            var birthday: String?
            var lastSale: String?
            var lastStore: String?
        }
        let rows = members.map {
            Row(card: $0.card, name: $0.name, birthday: $0.birthday, lastSale: $0.lastSaleDay.map(ChainCalendar.string(day:)), lastStore: $0.lastSaleStore)
        }
        struct Body: Encodable {
            var list: String
            var asOf: String
            var members: [Row]
        }
        let table = ReportTable(
            title: "members for \(list.rawValue)", header: ["card", "name", "birthday", "last_sale", "last_store"],
            rows: rows.map { [$0.card, $0.name ?? "", $0.birthday ?? "", $0.lastSale ?? "", $0.lastStore ?? ""] },
            json: Output.json(Body(list: list.rawValue, asOf: context.asOfText, members: rows)))
        table.print(json: storage.json, csv: true)
    }

    /// `MM-DD` or `YYYY-MM-DD` → "M-D".
}
