import HeadOffice
import LoyaltyCore

/// `program show`: every rule of a version in words, one line each, in the order of the program file.
enum ProgramDescription {
    static func lines(_ published: PublishedProgram, validFrom time: (Int64?) -> String) -> [String] {
        let program = published.program
        let code = program.currency.code
        func money(_ minor: Int64) -> String {
            "\(Money(minorUnits: minor, currency: program.currency).decimalString) \(code)"
        }
        func percent(_ value: Int64) -> String { "×\(value) %" }
        var lines = [
            "Program version \(program.version)"
                + (program.validFromMilliseconds.map {
                    " valid from \(time($0)), published by \(published.publishedBy)"
                } ?? " (built in)"),
            "  earning     \(program.pointsPerMajorUnit) point(s) per \(code), rounded \(program.rounding.rawValue)",
        ]
        if let rules = program.earningRules {
            if !rules.excludedCategories.isEmpty {
                lines.append("  excluded    \(rules.excludedCategories.joined(separator: ", ")) earn nothing")
            }
            for (category, value) in rules.categoryMultiplierPercent.sorted(by: { $0.key < $1.key }) {
                lines.append("  category    \(category) earns \(percent(value))")
            }
            for promotion in rules.promotions {
                var when: [String] = []
                if let from = promotion.fromDay { when.append("from \(from)") }
                if let until = promotion.untilDay { when.append("until \(until)") }
                if !promotion.weekdays.isEmpty {
                    let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                    when.append(
                        "on "
                            + promotion.weekdays.map { names.indices.contains($0 - 1) ? names[$0 - 1] : String($0) }
                            .joined(separator: ", "))
                }
                if let from = promotion.fromHour, let until = promotion.untilHour {
                    when.append("\(from):00–\(until):00")
                }
                if !promotion.tiers.isEmpty { when.append("for tiers \(promotion.tiers.joined(separator: ", "))") }
                if !promotion.segments.isEmpty {
                    when.append("for segments \(promotion.segments.joined(separator: ", "))")
                }
                lines.append(
                    "  promotion   \(promotion.name): \(percent(promotion.multiplierPercent))"
                        + (when.isEmpty ? ", always" : ", " + when.joined(separator: ", ")))
            }
            lines.append("  combining   promotions and birthday \(rules.combination.rawValue)")
            if let birthday = rules.birthdayMonthMultiplierPercent {
                lines.append("  birthday    month earns \(percent(birthday))")
            }
            if let cap = rules.perSaleCapPoints { lines.append("  cap         at most \(cap) points per sale") }
            if let cap = rules.perMemberDayCapPoints {
                lines.append("  cap         at most \(cap) points per member and day")
            }
            lines.append("  time zone   \(rules.timeZone) (days, hours, birthdays and caps count here)")
        }
        for tier in program.tiers {
            let threshold =
                program.tiersCountPoints
                ? "\(tier.threshold) points earned in 12 months" : "\(money(tier.threshold)) 12-month spend"
            lines.append(
                "  tier        \(tier.name): from \(threshold), earns \(percent(tier.earnMultiplierPercent))"
                    + (tier.topPercent.map { ", or the top \($0) % at review" } ?? "")
                    + (tier.benefits.isEmpty ? "" : "; " + tier.benefits.joined(separator: "; ")))
        }
        lines.append(
            "  redemption  1 point = \(money(program.pointValueMinorUnits)); minimum \(program.minimumRedemptionPoints), "
                + "steps of \(program.redemptionStepPoints)"
                + (program.maximumRedemptionSharePercent.map { ", at most \($0) % of a sale" } ?? ""))
        if let bonuses = program.bonuses {
            lines.append(
                "  bonuses     enrolment \(bonuses.enrolmentPoints), first purchase \(bonuses.firstPurchasePoints), "
                    + "referral \(bonuses.referralPoints) points")
        }
        lines.append(
            "  expiry      "
                + (program.pointsExpireAfterDays.map { "points lapse \($0) days after they were earned" } ?? "never"))
        for coupon in program.coupons ?? [] {
            let when =
                switch coupon.trigger {
                case .enrolment: "at enrolment"
                case .earlyVisits(let visits, let days): "on visit \(visits) within \(days) days of enrolling"
                }
            lines.append(
                "  coupon      \(coupon.name): \(money(coupon.discountMinor)) off, \(when), valid \(coupon.validDays) days"
            )
        }
        return lines
    }
}
