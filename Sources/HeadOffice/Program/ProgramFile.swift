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

        func integer(_ range: ClosedRange<Int64>) throws(LoyaltyError) -> Int64 {
            guard let value = Int64(try text()), range.contains(value) else {
                throw bad("must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }

        func definition() throws(LoyaltyError) -> ProgramDefinition {
            let top = try fields(["valid_from", "currency", "earning", "tiers", "redemption"])
            let validFromText = try child(top, "valid_from")!.text()
            guard let validFrom = try? Date.ISO8601FormatStyle().parse(validFromText) else {
                throw bad("must be an ISO 8601 time such as 2026-12-01T00:00:00Z", field: "valid_from", at: top["valid_from"]?.mark?.line)
            }
            var currency = Currency.euro
            if let code = try child(top, "currency", required: false) {
                do { currency = try Currency.named(try code.text()) } catch { throw code.bad(error.message) }
            }
            let earningReader = try child(top, "earning")!
            let earning = try earningReader.fields(["points_per_unit", "rounding"])
            let pointsPerUnit = try earningReader.child(earning, "points_per_unit")!.integer(0...1_000)
            let roundingReader = try earningReader.child(earning, "rounding")!
            guard let rounding = Rounding(rawValue: try roundingReader.text()) else {
                throw roundingReader.bad("must be one of \(Rounding.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let tiersReader = try child(top, "tiers")!
            guard let tierNodes = tiersReader.node.sequence else { throw tiersReader.bad("must be a list of tiers") }
            var tiers: [ProgramDefinition.TierDefinition] = []
            for (index, tierNode) in tierNodes.enumerated() {
                let tier = Reader(tierNode, path: "tiers[\(index)]")
                let values = try tier.fields(["name", "min_rolling_spend", "earn_multiplier_percent", "top_percent"])
                let spendReader = try tier.child(values, "min_rolling_spend")!
                var topPercent: Int?
                if let percentReader = try tier.child(values, "top_percent", required: false) {
                    topPercent = Int(try percentReader.integer(1...100))
                }
                let spend: Money
                do { spend = try Money(parsing: try spendReader.text(), currency: currency) } catch { throw spendReader.bad(error.message) }
                tiers.append(
                    ProgramDefinition.TierDefinition(
                        name: try tier.child(values, "name")!.text(), minimumRollingSpendMinor: spend.minorUnits,
                        earnMultiplierPercent: try tier.child(values, "earn_multiplier_percent")!.integer(100...1_000),
                        topPercent: topPercent,
                        line: tier.line))
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
            return definition
        }
    }
}
