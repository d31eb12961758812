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
    /// Columns holding money, and its currency: the human form writes `170.00 EUR` (CSV and JSON keep the
    /// decimal alone, the currency is the report's).
    var moneyColumns: Set<String> = []
    var currency: String? = nil

    func print(json asJSON: Bool, csv: Bool) {
        if asJSON {
            Output.out(ReplicaNote.annotated(json))
            return
        }
        ReplicaNote.printBefore(csv: csv)
        if csv {
            Output.out(([header] + rows).map { $0.map(Self.csvField).joined(separator: ",") }.joined(separator: "\n"))
        } else {
            if rows.isEmpty { Output.out("No \(title) to report.") }
            for row in rows {
                Output.out(
                    zip(header, row).map { name, value in
                        let unit = moneyColumns.contains(name) ? currency.map { " \($0)" } ?? "" : ""
                        return "\(name)=\(value)\(unit)"
                    }.joined(separator: "  "))
            }
            if let summaryLine { Output.out(summaryLine) }
        }
    }

    static func csvField(_ value: String) -> String {
        let safe = neutralisingFormula(value)
        return safe.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + safe.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : safe
    }

    /// A cell a spreadsheet would run as a formula (a member named `=HYPERLINK(…)`) is written with a
    /// leading `'`, which spreadsheets show as text; numbers such as `-40` stay as they are.
    static func neutralisingFormula(_ value: String) -> String {
        guard let first = value.first else { return value }
        let formula: Bool =
            switch first {
            case "=", "+", "@", "\t", "\r": true
            case "-": !(value.dropFirst().first.map { $0.isNumber || $0 == "." } ?? false)
            default: false
            }
        return formula ? "'" + value : value
    }

    /// This table with `columns` shown as money in `currency` in the human form.
    func withMoney(_ columns: Set<String>, _ currency: String) -> ReportTable {
        var table = self
        table.moneyColumns = columns
        table.currency = currency
        return table
    }

    static func decimal(_ value: Double, digits: Int = 4) -> String { String(format: "%.\(digits)f", value) }
}
