import ArgumentParser
import Foundation
import HeadOffice
import LoyaltyCore

/// `loyalty-hq expire --as-of DATE`: points lapse at head office, and stores learn it at their next pull.
struct Expire: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Expire points that lapsed by a day (the program's expiry.after_days), oldest points first.",
        discussion: """
            Each member's points are lots, one per grant (a sale, a bonus); spending takes the oldest lots first \
            and a refund its own sale's lot. Points of lots granted more than after_days before the end of the \
            as-of day (chain time zone) that are still there expire; points already spent never do, and no \
            balance goes below zero. Points an earlier run expired that a refund then took back too are given \
            back. Running again for the same day writes nothing new. Stores receive the entries at their next sync.
            """)
    @OptionGroup var asOf: AsOfOption
    @Option(help: "Who runs it, for the record (default: the login name).") var by: String?
    @OptionGroup var storage: StorageOptions

    func run() async throws {
        let actor = try OperatorInput.actor(by)
        let requested = try asOf.asOf.map { text -> Int in
            guard let day = ChainCalendar.day(text) else {
                throw CommandFailure(code: "bad_date", message: "--as-of takes a date like 2026-03-31, not '\(text)'", exitCode: 2)
            }
            return day
        }
        let summary = try await storage.withStore { store, _ in
            let calendar = try ChainCalendar(identifier: try await store.chainTimeZone())
            do {
                return try await store.runExpiry(asOfDay: requested ?? calendar.today(), calendar: calendar, actor: actor, now: Date())
            } catch let refusal as ExpiryRefusal {
                throw CommandFailure(code: "expiry_refused", message: refusal.message, exitCode: 1)
            }
        }
        if storage.json {
            Output.out(Output.json(summary))
            return
        }
        guard let days = summary.afterDays else {
            Output.out("Program version \(summary.programVersion) (in force on \(summary.asOf)) has no expiry: no points expired.")
            return
        }
        for member in summary.members {
            Output.out("card=\(member.card)  expired=\(member.expired)  given_back=\(member.givenBack)")
        }
        Output.out(
            "Expiry as of \(summary.asOf) (points older than \(days) days, program version \(summary.programVersion)): "
                + "\(summary.expiredPoints) points expired, \(summary.givenBackPoints) given back, \(summary.members.count) members. "
                + "Stores receive the entries at their next sync.")
    }
}

/// `loyalty-hq referrals pay`: referral bonuses for referred members whose first sale has arrived.
struct Referrals: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Referral bonuses (the program's bonuses.referral_points).",
        discussion: "Head office pays them by itself when a batch brings a referred member's first sale; `pay` catches up.",
        subcommands: [Pay.self])

    struct Pay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give both members their referral bonus where the referred member's first sale has reached head office.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let written = try await storage.withStore { store, _ in try await store.grantReferralBonuses(now: Date()) }
            struct Body: Encodable { var bonusesWritten: Int }
            Output.out(
                storage.json
                    ? Output.json(Body(bonusesWritten: written))
                    : "\(written) referral bonus entries written; stores receive them at their next sync.")
        }
    }
}
