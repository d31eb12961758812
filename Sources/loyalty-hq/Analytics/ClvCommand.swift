import ArgumentParser
import Foundation
import LoyaltyCore

/// `loyalty-hq clv fit --summary FILE.csv`: the models on a table, to check them against published
/// results and other implementations.
struct Clv: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lifetime-value models: fit BG/NBD and Gamma-Gamma on a summary table.", subcommands: [Fit.self])

    struct Fit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fit BG/NBD (and Gamma-Gamma when monetary_value is given) by maximum likelihood.",
            discussion: """
                The table has the columns frequency (repeat purchases), recency (time of the last purchase after \
                the first), T (time since the first purchase) and optionally monetary_value (mean value of the \
                repeat purchases), as the `lifetimes` package writes them; other columns are ignored. Prints r, \
                alpha, a, b, p, q, gamma and the log-likelihoods (sums over the rows).
                """)

        @Option(help: "The summary table (CSV).") var summary: String
        @Option(help: "Also predict each row: P(alive) and expected purchases in this many time units.") var predict: Double?
        @Flag(help: "Print exactly one JSON object.") var json = false

        func run() async throws {
            guard let text = try? String(contentsOfFile: summary, encoding: .utf8) else {
                throw CommandFailure(code: "unreadable_file", message: "cannot read \(summary) as UTF-8 text", exitCode: 2)
            }
            let table = try SummaryTable(text)
            let purchases: BetaGeometricNBD
            var spend: GammaGammaSpend?
            do {
                purchases = try BetaGeometricNBD.fit(table.histories)
                if let values = table.monetaryValues {
                    spend = try GammaGammaSpend.fit(zip(table.histories, values).map { ($0.frequency, $1) })
                }
            } catch {
                throw CommandFailure(code: error.code, message: error.message, exitCode: error.category == .badInput ? 2 : 1)
            }
            struct Row: Encodable {
                var pAlive: Double
                var expectedPurchases: Double
                var expectedValue: Double?
            }
            struct Body: Encodable {
                var rows: Int
                var r, alpha, a, b: Double
                var logLikelihood: Double
                var p, q, gamma: Double?
                var gammaGammaLogLikelihood: Double?
                var predictions: [Row]?
            }
            var predictions: [Row]?
            if let predict {
                guard predict > 0, predict <= 10_000 else {
                    throw CommandFailure(
                        code: "bad_option", message: "--predict takes a duration above 0 and up to 10000 (in the table's time unit)",
                        exitCode: 2)
                }
                predictions = table.histories.enumerated().map { index, history in
                    Row(
                        pAlive: purchases.probabilityAlive(history),
                        expectedPurchases: purchases.expectedPurchases(history, weeks: predict),
                        expectedValue: spend.map { $0.expectedSaleValue(frequency: history.frequency, meanValue: table.monetaryValues![index]) })
                }
            }
            let body = Body(
                rows: table.histories.count, r: purchases.r, alpha: purchases.alpha, a: purchases.a, b: purchases.b,
                logLikelihood: purchases.logLikelihood, p: spend?.p, q: spend?.q, gamma: spend?.gamma,
                gammaGammaLogLikelihood: spend?.logLikelihood, predictions: predictions)
            if json {
                Output.out(Output.json(body))
                return
            }
            let f = Output.figure
            Output.out(
                "BG/NBD on \(body.rows) rows: r=\(f(purchases.r)) alpha=\(f(purchases.alpha)) a=\(f(purchases.a)) b=\(f(purchases.b)) "
                    + "log_likelihood=\(f(purchases.logLikelihood))")
            if let spend {
                Output.out(
                    "Gamma-Gamma: p=\(f(spend.p)) q=\(f(spend.q)) gamma=\(f(spend.gamma)) log_likelihood=\(f(spend.logLikelihood))")
            } else {
                Output.out("Gamma-Gamma: not fitted (the table has no monetary_value column)")
            }
            for (index, row) in (predictions ?? []).enumerated() {
                Output.out(
                    "row=\(index + 1)  p_alive=\(f(row.pAlive))  expected_purchases=\(f(row.expectedPurchases))"
                        + (row.expectedValue.map { "  expected_value=\(f($0))" } ?? ""))
            }
        }
    }
}

/// A `lifetimes`-style summary table.
struct SummaryTable {
    var histories: [RepeatPurchaseHistory] = []
    var monetaryValues: [Double]?

    init(_ text: String) throws {
        let lines = text.split(whereSeparator: \.isNewline).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard let header = lines.first else {
            throw CommandFailure(code: "bad_summary", message: "the table is empty; it needs a header with frequency,recency,T", exitCode: 2)
        }
        let names = header.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        func column(_ name: String) -> Int? { names.firstIndex(of: name) }
        guard let frequency = column("frequency"), let recency = column("recency"), let age = column("T") else {
            throw CommandFailure(code: "bad_summary", message: "line 1: the header must name frequency, recency and T", exitCode: 2)
        }
        let monetary = column("monetary_value")
        if monetary != nil { monetaryValues = [] }
        for (offset, line) in lines.enumerated().dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            func number(_ index: Int, _ name: String) throws -> Double {
                guard index < fields.count, let value = Double(fields[index]), value.isFinite, value >= 0 else {
                    throw CommandFailure(
                        code: "bad_summary", message: "line \(offset + 1): \(name) must be a number ≥ 0", exitCode: 2)
                }
                return value
            }
            let history = RepeatPurchaseHistory(
                frequency: try number(frequency, "frequency"), recency: try number(recency, "recency"), age: try number(age, "T"))
            guard history.frequency.rounded() == history.frequency, history.recency <= history.age else {
                throw CommandFailure(
                    code: "bad_summary", message: "line \(offset + 1): frequency must be whole and recency ≤ T", exitCode: 2)
            }
            histories.append(history)
            if let monetary { monetaryValues!.append(try number(monetary, "monetary_value")) }
        }
    }
}
