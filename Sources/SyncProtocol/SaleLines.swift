public import Foundation

/// One line of a sale as it travels with the sale's `earn` entry: what it cost and what it earned, so a
/// return at any store takes back exactly what the returned line earned.
public struct SyncSaleLine: Codable, Hashable, Sendable {
    public var sku: String
    public var amountMinor: Int64
    public var points: Int64

    public init(sku: String, amountMinor: Int64, points: Int64) {
        self.sku = sku
        self.amountMinor = amountMinor
        self.points = points
    }

    enum CodingKeys: String, CodingKey {
        case sku, points
        case amountMinor = "amount_minor"
    }
}

/// What a return took from one line of the sale it refers to (`line`: the line's place, from 0).
public struct SyncLineReturn: Codable, Hashable, Sendable {
    public var line: Int
    public var amountMinor: Int64
    public var points: Int64

    public init(line: Int, amountMinor: Int64, points: Int64) {
        self.line = line
        self.amountMinor = amountMinor
        self.points = points
    }

    enum CodingKeys: String, CodingKey {
        case line, points
        case amountMinor = "amount_minor"
    }
}

extension SyncEntry {
    /// Most lines one sale may have (the till's own bound).
    public static let maximumLines = 1_000

    /// Why the entry's lines, returned lines or foreign reference cannot be stored, or nil.
    var lineProblem: String? {
        if let lines {
            guard kind == "earn", (1...Self.maximumLines).contains(lines.count) else {
                return "entry \(seq): lines belong on an earn entry, 1 to \(Self.maximumLines) of them"
            }
            var total: Int64 = 0
            for line in lines {
                guard (1...64).contains(line.sku.count), line.amountMinor > 0, line.points >= 0,
                    line.amountMinor.magnitude <= Self.maximumMagnitude, line.points.magnitude <= Self.maximumMagnitude
                else {
                    return "entry \(seq): each line has a sku of 1 to 64 characters, an amount_minor > 0 and points ≥ 0"
                }
                total += line.amountMinor
            }
            if total != amountMinor {
                return "entry \(seq): the lines add up to \(total), not the entry's amount_minor"
            }
        }
        if let returnedLines {
            guard kind == "reverse", refersToSeq != nil, (1...Self.maximumLines).contains(returnedLines.count) else {
                return
                    "entry \(seq): returned_lines belong on a reverse entry that refers to a sale, 1 to \(Self.maximumLines)"
            }
            for line in returnedLines
            where !(0..<Self.maximumLines).contains(line.line) || line.amountMinor <= 0 || line.points < 0
                || line.amountMinor.magnitude > Self.maximumMagnitude || line.points.magnitude > Self.maximumMagnitude
            {
                return
                    "entry \(seq): a returned line names a line 0 to \(Self.maximumLines - 1), an amount_minor > 0 and points ≥ 0"
            }
            if Set(returnedLines.map(\.line)).count != returnedLines.count {
                return "entry \(seq): returned_lines names a line twice"
            }
        }
        if let refersToStore {
            guard kind == "reverse", refersToSeq != nil, (1...64).contains(refersToStore.count),
                refersToStore.allSatisfy({
                    $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".")
                })
            else {
                return
                    "entry \(seq): refers_to_store belongs on a reverse entry with refers_to_seq and names a store id"
            }
        }
        return nil
    }
}

extension SyncEntry {
    /// ``lines`` and ``returnedLines`` as head office stores them: JSON text, keys sorted (one text per value).
    public var linesText: String? { lines.map(Self.text) }
    public var returnedLinesText: String? { returnedLines.map(Self.text) }

    /// Lines read back from their stored text (nil for none, or for text that is not lines).
    public static func decodedLines<Line: Decodable>(_ text: String?, as: Line.Type = Line.self) -> [Line]? {
        guard let text else { return nil }
        return try? JSONDecoder().decode([Line].self, from: Data(text.utf8))
    }

    private static func text<Value: Encodable>(_ value: Value) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // Lines are plain numbers and SKUs: encoding cannot fail.
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }
}
