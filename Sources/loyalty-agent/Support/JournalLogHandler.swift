import Foundation
import Logging
import LoyaltyCore
import Synchronization

/// swift-log lines for the journal: under systemd (`$JOURNAL_STREAM` set) each line starts with the
/// syslog priority (`<4>` warning, `<6>` info …) so journald files it at that level; on a terminal the
/// level is a word. Metadata follows as `key=value`, sorted. One line per message, newlines escaped.
struct JournalLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    let label: String
    let toJournal: Bool

    init(label: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.label = label
        toJournal = !(environment["JOURNAL_STREAM"] ?? "").isEmpty
        if let level = environment["LOYALTY_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) { logLevel = level }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = toJournal ? "<\(Self.priority(event.level))>" : "\(event.level.rawValue.uppercased()) "
        line += "\(event.message)"
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += " \(key)=\(Self.quoted("\(value)"))"
        }
        // No log line ever carries a bank card number (a configuration error may quote the file).
        line = PaymentCardDetector.redacted(line.replacingOccurrences(of: "\n", with: "\\n")) + "\n"
        Self.output.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
    }

    /// Syslog priorities, as sd-daemon(3) prefixes read them.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    private static func quoted(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" })
            ? "\"" + value.replacingOccurrences(of: "\"", with: "\\\"") + "\"" : value
    }

    /// One writer at a time: lines from several threads never interleave.
    private static let output = Mutex(())
}
