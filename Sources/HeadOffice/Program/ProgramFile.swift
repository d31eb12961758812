public import Foundation
public import LoyaltyCore
import Yams

/// Reads a program file (YAML; JSON is YAML too). Every problem names the field and its line, and
/// unknown fields are refused, so a typo never silently falls back to a default.
public enum ProgramFile {
    public static func parse(_ text: String) throws(LoyaltyError) -> ProgramDefinition {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw LoyaltyError.badInput("bad_program", "the file is empty; see sync/examples/program.yaml")
            }
            root = node
        } catch let error as LoyaltyError {
            throw error
        } catch {
            throw .badInput("bad_program", "not YAML or JSON: \(String(describing: error).prefix(300))")
        }
        return try Reader(root, path: "").definition()
    }

    private struct Reader {
        let node: Node
        let path: String

        init(_ node: Node, path: String) {
            self.node = node
            self.path = path
        }

        var line: Int { node.mark?.line ?? 0 }

        func bad(_ why: String, field: String? = nil, at line: Int? = nil) -> LoyaltyError {
            let name = field.map { path.isEmpty ? $0 : "\(path).\($0)" } ?? (path.isEmpty ? "the file" : path)
            return .badInput("bad_program", "line \(line ?? self.line): \(name): \(why)")
        }

        /// The mapping's fields, refusing any not in `known`.
        func fields(_ known: [String]) throws(LoyaltyError) -> [String: Node] {
            guard let mapping = node.mapping else { throw bad("must be a mapping of \(known.joined(separator: ", "))") }
            var result: [String: Node] = [:]
            for (key, value) in mapping {
                guard let name = key.string, known.contains(name) else {
                    throw bad("unknown field '\(key.string ?? "?")'; the fields are \(known.joined(separator: ", "))", at: key.mark?.line)
                }
                result[name] = value
            }
            return result
        }

        func child(_ fields: [String: Node], _ name: String, required: Bool = true) throws(LoyaltyError) -> Reader? {
            guard let value = fields[name] else {
                if required { throw bad("is missing", field: name) }
                return nil
            }
            return Reader(value, path: path.isEmpty ? name : "\(path).\(name)")
        }

        func text() throws(LoyaltyError) -> String {
            guard let value = node.string else { throw bad("must be a single value") }
            return value
        }

        /// A name shown at every till and on the kiosk: never a bank card number.
        func name() throws(LoyaltyError) -> String {
            let value = try text()
            guard !PaymentCardDetector.mentionsPaymentCard(value) else { throw bad("holds a bank card number; leave it out") }
            return value
        }

        func strings() throws(LoyaltyError) -> [String] {
            guard let items = node.sequence else { throw bad("must be a list") }
            var result: [String] = []
            for item in items {
                guard let text = item.string, !text.isEmpty, text.count <= 64 else {
                    throw bad("each item must be a single value of 1 to 64 characters", at: item.mark?.line)
                }
                result.append(text)
            }
            return result
        }

        func integer(_ range: ClosedRange<Int64>) throws(LoyaltyError) -> Int64 {
            guard let value = Int64(try text()), range.contains(value) else {
                throw bad("must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }

        /// One tier; its threshold key follows `tiers_by`: `min_rolling_spend` (money) or `min_rolling_points`.
        func tier(basis: TierBasis, currency: Currency) throws(LoyaltyError) -> ProgramDefinition.TierDefinition {
            let values = try fields([
                "name", "min_rolling_spend", "min_rolling_points", "earn_multiplier_percent", "top_percent", "benefits",
            ])
            let (wanted, other) = basis == .points ? ("min_rolling_points", "min_rolling_spend") : ("min_rolling_spend", "min_rolling_points")
            if let misplaced = try child(values, other, required: false) {
                throw misplaced.bad(
                    "this program's tiers count \(basis == .points ? "points earned" : "spend") (tiers_by: \(basis.rawValue)): "
                        + "give \(wanted) instead")
            }
            let thresholdReader = try child(values, wanted)!
            let threshold: Int64
            if basis == .points {
                threshold = try thresholdReader.integer(0...Money.maximumMinorUnits)
            } else {
                do { threshold = try Money(parsing: try thresholdReader.text(), currency: currency).minorUnits } catch {
                    throw thresholdReader.bad(error.message)
                }
            }
            var topPercent: Int?
            if let percentReader = try child(values, "top_percent", required: false) {
                topPercent = Int(try percentReader.integer(1...100))
            }
            var tier = ProgramDefinition.TierDefinition(
                name: try child(values, "name")!.name(), threshold: threshold,
                earnMultiplierPercent: try child(values, "earn_multiplier_percent")!.integer(100...1_000),
                topPercent: topPercent, line: line)
            if let benefits = try child(values, "benefits", required: false) {
                guard let items = benefits.node.sequence else { throw benefits.bad("must be a list of short texts") }
                for item in items {
                    guard let text = item.string, !text.isEmpty else {
                        throw benefits.bad("each benefit must be a single line of text", at: item.mark?.line)
                    }
                    guard !PaymentCardDetector.mentionsPaymentCard(text) else {
                        throw benefits.bad("a benefit holds a bank card number; leave it out", at: item.mark?.line)
                    }
                    tier.benefits.append(text)
                }
            }
            return tier
        }

        func definition() throws(LoyaltyError) -> ProgramDefinition {
            let top = try fields([
                "valid_from", "currency", "earning", "tiers_by", "tiers", "redemption", "promotions", "bonuses", "expiry", "coupons",
            ])
            let validFromText = try child(top, "valid_from")!.text()
            guard let validFrom = try? Date.ISO8601FormatStyle().parse(validFromText) else {
                throw bad("must be an ISO 8601 time such as 2026-12-01T00:00:00Z", field: "valid_from", at: top["valid_from"]?.mark?.line)
            }
            var currency = Currency.euro
            if let code = try child(top, "currency", required: false) {
                do { currency = try Currency.named(try code.text()) } catch { throw code.bad(error.message) }
            }
            let earningReader = try child(top, "earning")!
            let earning = try earningReader.fields([
                "points_per_unit", "rounding", "excluded_categories", "category_multipliers", "combine",
                "birthday_month_multiplier_percent", "per_sale_cap_points", "per_member_day_cap_points", "time_zone",
            ])
            var rules = EarningRules()
            if let excluded = try earningReader.child(earning, "excluded_categories", required: false) {
                rules.excludedCategories = try excluded.strings()
            }
            if let multipliers = try earningReader.child(earning, "category_multipliers", required: false) {
                guard let mapping = multipliers.node.mapping else { throw multipliers.bad("must map categories to percents") }
                for (key, value) in mapping {
                    guard let category = key.string, !category.isEmpty else { throw multipliers.bad("a category name is missing", at: key.mark?.line) }
                    rules.categoryMultiplierPercent[category] = try Reader(value, path: multipliers.path + "." + category).integer(0...1_000)
                }
            }
            if let combine = try earningReader.child(earning, "combine", required: false) {
                guard let combination = EarningRules.Combination(rawValue: try combine.text()) else {
                    throw combine.bad("must be one of \(EarningRules.Combination.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                rules.combination = combination
            }
            rules.birthdayMonthMultiplierPercent = try earningReader.child(earning, "birthday_month_multiplier_percent", required: false)?
                .integer(100...1_000)
            rules.perSaleCapPoints = try earningReader.child(earning, "per_sale_cap_points", required: false)?.integer(1...1_000_000_000)
            rules.perMemberDayCapPoints = try earningReader.child(earning, "per_member_day_cap_points", required: false)?
                .integer(1...1_000_000_000)
            if let zone = try earningReader.child(earning, "time_zone", required: false) {
                let name = try zone.text()
                guard TimeZone(identifier: name) != nil else { throw zone.bad("must be an IANA time zone such as Europe/Berlin") }
                rules.timeZone = name
            }
            if let promotionsReader = try child(top, "promotions", required: false) {
                guard let items = promotionsReader.node.sequence else { throw promotionsReader.bad("must be a list of promotions") }
                for (index, item) in items.enumerated() {
                    rules.promotions.append(try Reader(item, path: "promotions[\(index)]").promotion())
                }
            }
            let pointsPerUnit = try earningReader.child(earning, "points_per_unit")!.integer(0...1_000)
            let roundingReader = try earningReader.child(earning, "rounding")!
            guard let rounding = Rounding(rawValue: try roundingReader.text()) else {
                throw roundingReader.bad("must be one of \(Rounding.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var tierBasis = TierBasis.spend
            if let basisReader = try child(top, "tiers_by", required: false) {
                guard let basis = TierBasis(rawValue: try basisReader.text()) else {
                    throw basisReader.bad("must be one of \(TierBasis.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                tierBasis = basis
            }
            let tiersReader = try child(top, "tiers")!
            guard let tierNodes = tiersReader.node.sequence else { throw tiersReader.bad("must be a list of tiers") }
            var tiers: [ProgramDefinition.TierDefinition] = []
            for (index, tierNode) in tierNodes.enumerated() {
                tiers.append(try Reader(tierNode, path: "tiers[\(index)]").tier(basis: tierBasis, currency: currency))
            }
            let redemptionReader = try child(top, "redemption")!
            let redemption = try redemptionReader.fields(["point_value_minor", "minimum_points", "step_points", "max_share_percent"])
            var maximumShare: Int64?
            if let share = try redemptionReader.child(redemption, "max_share_percent", required: false) {
                maximumShare = try share.integer(1...100)
            }
            var definition = ProgramDefinition(
                validFromMilliseconds: Int64((validFrom.timeIntervalSince1970 * 1000).rounded(.down)), currency: currency,
                pointsPerUnit: pointsPerUnit, rounding: rounding, tiers: tiers,
                pointValueMinor: try redemptionReader.child(redemption, "point_value_minor")!.integer(1...1_000_000),
                minimumRedemptionPoints: try redemptionReader.child(redemption, "minimum_points")!.integer(1...10_000_000),
                redemptionStepPoints: try redemptionReader.child(redemption, "step_points")!.integer(1...10_000_000))
            definition.maximumRedemptionSharePercent = maximumShare
            definition.tierBasis = tierBasis
            definition.earningRules = rules
            if let bonusesReader = try child(top, "bonuses", required: false) {
                let values = try bonusesReader.fields(["enrolment_points", "first_purchase_points", "referral_points"])
                var bonuses = ProgramBonuses()
                let range = 0...ProgramBonuses.maximumPoints
                bonuses.enrolmentPoints = try bonusesReader.child(values, "enrolment_points", required: false)?.integer(range) ?? 0
                bonuses.firstPurchasePoints = try bonusesReader.child(values, "first_purchase_points", required: false)?.integer(range) ?? 0
                bonuses.referralPoints = try bonusesReader.child(values, "referral_points", required: false)?.integer(range) ?? 0
                definition.bonuses = bonuses
            }
            if let expiryReader = try child(top, "expiry", required: false) {
                let values = try expiryReader.fields(["after_days"])
                definition.pointsExpireAfterDays = Int(try expiryReader.child(values, "after_days")!.integer(30...3_650))
            }
            if let couponsReader = try child(top, "coupons", required: false) {
                guard let items = couponsReader.node.sequence else { throw couponsReader.bad("must be a list of coupon rules") }
                for (index, item) in items.enumerated() {
                    definition.coupons.append(try Reader(item, path: "coupons[\(index)]").coupon(currency: currency))
                }
            }
            return definition
        }

        func coupon(currency: Currency) throws(LoyaltyError) -> CouponRule {
            let values = try fields(["name", "when", "discount", "valid_days"])
            let whenReader = try child(values, "when")!
            let trigger: CouponRule.Trigger
            if whenReader.node.string == "enrolment" {
                trigger = .enrolment
            } else if whenReader.node.mapping != nil {
                let visits = try whenReader.fields(["visits", "within_days"])
                trigger = .earlyVisits(
                    visits: Int(try whenReader.child(visits, "visits")!.integer(1...100)),
                    withinDays: Int(try whenReader.child(visits, "within_days")!.integer(1...365)))
            } else {
                throw whenReader.bad("must be 'enrolment' or {visits: N, within_days: D}")
            }
            let discountReader = try child(values, "discount")!
            let discount: Money
            do { discount = try Money(parsing: try discountReader.text(), currency: currency) } catch {
                throw discountReader.bad(error.message)
            }
            return CouponRule(
                name: try child(values, "name")!.name(), trigger: trigger, discountMinor: discount.minorUnits,
                validDays: Int(try child(values, "valid_days", required: false)?.integer(1...3_650) ?? 90))
        }

        static let weekdays = ["mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7]

        func promotion() throws(LoyaltyError) -> Promotion {
            let values = try fields(["name", "multiplier_percent", "from", "until", "weekdays", "hours", "tiers", "segments"])
            var promotion = Promotion(
                name: try child(values, "name")!.name(), multiplierPercent: try child(values, "multiplier_percent")!.integer(100...1_000))
            for (field, keyPath) in [("from", \Promotion.fromDay), ("until", \Promotion.untilDay)] {
                guard let reader = try child(values, field, required: false) else { continue }
                let day = try reader.text()
                guard ChainCalendar.day(day) != nil else { throw reader.bad("must be a date like 2026-12-24") }
                promotion[keyPath: keyPath] = day
            }
            if let weekdays = try child(values, "weekdays", required: false) {
                promotion.weekdays = try weekdays.strings().map { name throws(LoyaltyError) -> Int in
                    guard let day = Self.weekdays[name.lowercased()] else { throw weekdays.bad("'\(name)' is not mon … sun") }
                    return day
                }
            }
            if let hours = try child(values, "hours", required: false) {
                let parts = try hours.text().split(separator: "-").compactMap { Int($0) }
                guard parts.count == 2, (0...23).contains(parts[0]), (1...24).contains(parts[1]), parts[0] < parts[1] else {
                    throw hours.bad("must be FROM-UNTIL in whole hours, e.g. 10-14 (10:00 until 14:00)")
                }
                promotion.fromHour = parts[0]
                promotion.untilHour = parts[1]
            }
            if let tiers = try child(values, "tiers", required: false) { promotion.tiers = try tiers.strings() }
            if let segments = try child(values, "segments", required: false) { promotion.segments = try segments.strings() }
            return promotion
        }
    }
}
