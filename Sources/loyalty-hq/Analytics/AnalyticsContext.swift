import ArgumentParser
import Foundation
import HeadOffice
import LoyaltyCore

/// `--as-of YYYY-MM-DD` (default: today in the chain's time zone).
struct AsOfOption: ParsableArguments {
    @Option(help: ArgumentHelp("The day the report is as of (default: today in the chain's time zone).", valueName: "YYYY-MM-DD"))
    var asOf: String?
}

/// What every analytics report starts from: the settings, the as-of day and each member's facts.
struct AnalyticsContext: Sendable {
    var settings: AnalyticsSettings
    var calendar: ChainCalendar
    var asOfDay: Int
    var facts: [MemberFacts]
    /// The program version in force at the end of the as-of day (the built-in one until a publish).
    var program: LoyaltyProgram

    var asOfText: String { ChainCalendar.string(day: asOfDay) }

    static func load(_ storage: StorageOptions, asOf: String?) async throws -> AnalyticsContext {
        var requestedDay: Int?
        if let asOf {
            guard let day = ChainCalendar.day(asOf) else {
                throw CommandFailure(code: "bad_date", message: "--as-of takes a real date from 1900 to 2200 like 2026-03-31, not '\(asOf)'", exitCode: 2)
            }
            requestedDay = day
        }
        let day = requestedDay
        return try await storage.withReportStore { store in
            let settings = try await store.analyticsSettings()
            let calendar = try ChainCalendar(identifier: try await store.chainTimeZone())
            let asOfDay = day ?? calendar.today()
            var facts = try await store.memberFacts(asOfDay: asOfDay, calendar: calendar)
            let end = calendar.startMilliseconds(ofDay: asOfDay + 1)
            // The version in force at the end of the as-of day, or now when that day is today (a version
            // starting later today is not in force yet).
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let program = PublishedProgram.inForce(try await store.programs(), atMilliseconds: min(end - 1, now))?.program
                ?? LoyaltyProgram.standard(currency: settings.currency)
            if program.tiersCountPoints {
                // The same 365 days as the facts' window: the day after (as-of − 365 days) to the as-of date.
                let earned = try await store.pointsEarned(
                    fromMilliseconds: calendar.startMilliseconds(ofDay: asOfDay - 364), untilMilliseconds: end)
                for index in facts.indices { facts[index].windowPointsEarned = earned[facts[index].memberId] ?? 0 }
            }
            return AnalyticsContext(settings: settings, calendar: calendar, asOfDay: asOfDay, facts: facts, program: program)
        }
    }

    func money(_ minor: Int64) -> String { Money(minorUnits: minor, currency: settings.currency).decimalString }
}
