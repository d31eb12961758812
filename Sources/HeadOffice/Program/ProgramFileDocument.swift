public import Foundation
public import LoyaltyCore

/// A program written back in the program file's own fields (`sync/examples/program.yaml`), as JSON
/// (which is YAML too): what `program show --json` prints, so a shown program can be edited and
/// published again. ``ProgramFile/parse(_:)`` reads it back to the same program.
public struct ProgramFileDocument: Encodable, Sendable {
    struct Earning: Encodable {
        var pointsPerUnit: Int64
        var rounding: String
        var excludedCategories: [String]?
        var categoryMultipliers: [String: Int64]?
        var combine: String?
        var birthdayMonthMultiplierPercent: Int64?
        var perSaleCapPoints: Int64?
        var perMemberDayCapPoints: Int64?
        var timeZone: String?

        enum CodingKeys: String, CodingKey {
            case pointsPerUnit = "points_per_unit"
            case rounding
            case excludedCategories = "excluded_categories"
            case categoryMultipliers = "category_multipliers"
            case combine
            case birthdayMonthMultiplierPercent = "birthday_month_multiplier_percent"
            case perSaleCapPoints = "per_sale_cap_points"
            case perMemberDayCapPoints = "per_member_day_cap_points"
            case timeZone = "time_zone"
        }
    }

    struct TierFields: Encodable {
        var name: String
        var minRollingSpend: String?
        var minRollingPoints: Int64?
        var earnMultiplierPercent: Int64
        var topPercent: Int?
        var benefits: [String]?

        enum CodingKeys: String, CodingKey {
            case name
            case minRollingSpend = "min_rolling_spend"
            case minRollingPoints = "min_rolling_points"
            case earnMultiplierPercent = "earn_multiplier_percent"
            case topPercent = "top_percent"
            case benefits
        }
    }

    struct PromotionFields: Encodable {
        var name: String
        var multiplierPercent: Int64
        var from: String?
        var until: String?
        var weekdays: [String]?
        var hours: String?
        var tiers: [String]?
        var segments: [String]?

        enum CodingKeys: String, CodingKey {
            case name
            case multiplierPercent = "multiplier_percent"
            case from, until, weekdays, hours, tiers, segments
        }
    }

    struct Redemption: Encodable {
        var pointValueMinor: Int64
        var minimumPoints: Int64
        var stepPoints: Int64
        var maxSharePercent: Int64?

        enum CodingKeys: String, CodingKey {
            case pointValueMinor = "point_value_minor"
            case minimumPoints = "minimum_points"
            case stepPoints = "step_points"
            case maxSharePercent = "max_share_percent"
        }
    }

    struct Bonuses: Encodable {
        var enrolmentPoints: Int64
        var firstPurchasePoints: Int64
        var referralPoints: Int64

        enum CodingKeys: String, CodingKey {
            case enrolmentPoints = "enrolment_points"
            case firstPurchasePoints = "first_purchase_points"
            case referralPoints = "referral_points"
        }
    }

    struct Expiry: Encodable {
        var afterDays: Int

        enum CodingKeys: String, CodingKey { case afterDays = "after_days" }
    }

    struct CouponFields: Encodable {
        enum When: Encodable {
            case enrolment
            case visits(Int, withinDays: Int)

            func encode(to encoder: any Encoder) throws {
                switch self {
                case .enrolment:
                    var container = encoder.singleValueContainer()
                    try container.encode("enrolment")
                case .visits(let visits, let days):
                    var container = encoder.container(keyedBy: CodingKeys.self)
                    try container.encode(visits, forKey: .visits)
                    try container.encode(days, forKey: .withinDays)
                }
            }

            enum CodingKeys: String, CodingKey { case visits, withinDays = "within_days" }
        }

        var name: String
        var when: When
        var discount: String
        var validDays: Int

        enum CodingKeys: String, CodingKey {
            case name, when, discount
            case validDays = "valid_days"
        }
    }

    var validFrom: String
    var currency: String
    var earning: Earning
    var tiersBy: String
    var tiers: [TierFields]
    var promotions: [PromotionFields]?
    var redemption: Redemption
    var bonuses: Bonuses?
    var expiry: Expiry?
    var coupons: [CouponFields]?

    enum CodingKeys: String, CodingKey {
        case validFrom = "valid_from"
        case currency, earning
        case tiersBy = "tiers_by"
        case tiers, promotions, redemption, bonuses, expiry,
            coupons
    }

    static let weekdayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    /// The document as one line of JSON, in the file's field names (category names kept as written).
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// The file for `program`; `valid_from` is written in UTC (the file's own form).
    public init(_ program: LoyaltyProgram) {
        let currency = program.currency
        func money(_ minor: Int64) -> String { Money(minorUnits: minor, currency: currency).decimalString }
        let rules = program.earningRules
        validFrom = ChainTime.text(milliseconds: program.validFromMilliseconds ?? 0, timeZone: "UTC")
        self.currency = currency.code
        earning = Earning(
            pointsPerUnit: program.pointsPerMajorUnit, rounding: program.rounding.rawValue,
            excludedCategories: rules.flatMap { $0.excludedCategories.isEmpty ? nil : $0.excludedCategories },
            categoryMultipliers: rules.flatMap {
                $0.categoryMultiplierPercent.isEmpty ? nil : $0.categoryMultiplierPercent
            },
            combine: rules?.combination.rawValue, birthdayMonthMultiplierPercent: rules?.birthdayMonthMultiplierPercent,
            perSaleCapPoints: rules?.perSaleCapPoints, perMemberDayCapPoints: rules?.perMemberDayCapPoints,
            timeZone: rules?.timeZone)
        let countsPoints = program.tiersCountPoints
        tiersBy = (program.tierBasis ?? .spend).rawValue
        tiers = program.tiers.map {
            TierFields(
                name: $0.name, minRollingSpend: countsPoints ? nil : money($0.threshold),
                minRollingPoints: countsPoints ? $0.threshold : nil, earnMultiplierPercent: $0.earnMultiplierPercent,
                topPercent: $0.topPercent, benefits: $0.benefits.isEmpty ? nil : $0.benefits)
        }
        let promotions = (rules?.promotions ?? []).map { promotion in
            PromotionFields(
                name: promotion.name, multiplierPercent: promotion.multiplierPercent, from: promotion.fromDay,
                until: promotion.untilDay,
                weekdays: promotion.weekdays.isEmpty
                    ? nil
                    : promotion.weekdays.map {
                        Self.weekdayNames.indices.contains($0 - 1) ? Self.weekdayNames[$0 - 1] : String($0)
                    },
                hours: promotion.fromHour.flatMap { from in promotion.untilHour.map { "\(from)-\($0)" } },
                tiers: promotion.tiers.isEmpty ? nil : promotion.tiers,
                segments: promotion.segments.isEmpty ? nil : promotion.segments)
        }
        self.promotions = promotions.isEmpty ? nil : promotions
        redemption = Redemption(
            pointValueMinor: program.pointValueMinorUnits, minimumPoints: program.minimumRedemptionPoints,
            stepPoints: program.redemptionStepPoints, maxSharePercent: program.maximumRedemptionSharePercent)
        bonuses = program.bonuses.map {
            Bonuses(
                enrolmentPoints: $0.enrolmentPoints, firstPurchasePoints: $0.firstPurchasePoints,
                referralPoints: $0.referralPoints)
        }
        expiry = program.pointsExpireAfterDays.map { Expiry(afterDays: $0) }
        let coupons = (program.coupons ?? []).map { rule in
            let when: CouponFields.When =
                switch rule.trigger {
                case .enrolment: .enrolment
                case .earlyVisits(let visits, let days): .visits(visits, withinDays: days)
                }
            return CouponFields(
                name: rule.name, when: when, discount: money(rule.discountMinor), validDays: rule.validDays)
        }
        self.coupons = coupons.isEmpty ? nil : coupons
    }
}
