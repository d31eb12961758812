import Foundation

/// A report as a person, a spreadsheet and a program read it: `key=value` lines, CSV, or one JSON
/// object (`members` and, where the report has one, `summary`).
struct ReportTable {
    var title: String
    var header: [String]
    var rows: [[String]]
    var json: String
    /// Printed after the rows in the human form.
    var summaryLine: String?

    func print(json asJSON: Bool, csv: Bool) {
        if asJSON {
            Output.out(json)
        } else if csv {
            Output.out(([header] + rows).map { $0.map(Self.csvField).joined(separator: ",") }.joined(separator: "\n"))
        } else {
            if rows.isEmpty { Output.out("No \(title) to report.") }
            for row in rows { Output.out(zip(header, row).map { "\($0)=\($1)" }.joined(separator: "  ")) }
            if let summaryLine { Output.out(summaryLine) }
        }
    }

    static func csvField(_ value: String) -> String {
        value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
            ? "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : value
    }

    static func decimal(_ value: Double, digits: Int = 4) -> String { String(format: "%.\(digits)f", value) }
}
