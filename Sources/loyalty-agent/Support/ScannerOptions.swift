import Foundation
import ArgumentParser
import CardReader
import LoyaltyCore

/// Options that say which devices are scanners and how to read them.
struct ScannerOptions: ParsableArguments {
    @Option(name: .customLong("scanner"), help: ArgumentHelp("A scanner by USB id (repeatable).", valueName: "VID:PID"))
    var scanners: [String] = []
    @Option(name: .customLong("scanner-name"), help: ArgumentHelp("A scanner by part of its name (repeatable).", valueName: "text"))
    var scannerNames: [String] = []
    @Option(help: ArgumentHelp("The XKB keyboard layout scanners are set to: us, de, fr, be, ...", valueName: "name"))
    var layout: String?
    @Option(help: ArgumentHelp("Configuration file (as for the other commands).", valueName: "path"))
    var config: String?
    @Option(name: .customLong("device-layout"), help: ArgumentHelp("A layout for one scanner, e.g. 05f9:2206=de (repeatable; others use --layout).", valueName: "VID:PID=layout"))
    var deviceLayouts: [String] = []
    @Option(name: .customLong("terminator"), help: ArgumentHelp("Key that ends a scan: enter, keypad-enter, tab (repeatable; default enter and keypad-enter).", valueName: "key"))
    var terminators: [String] = []
    @Option(help: ArgumentHelp("Longest gap between keys of one scan, in milliseconds.", valueName: "ms"))
    var maxKeyGapMilliseconds: Int = 50
    @Option(name: .customLong("member-range"), help: ArgumentHelp("Member card numbers: a prefix or FROM-TO (repeatable; default as for the other commands).", valueName: "range"))
    var memberRanges: [String] = []
    @Option(help: ArgumentHelp("Strip this prefix from scans.", valueName: "text")) var stripPrefix: String = ""
    @Option(help: ArgumentHelp("Strip this suffix from scans.", valueName: "text")) var stripSuffix: String = ""

    func configuration() throws(LoyaltyError) -> ScannerConfiguration {
        let file = AgentConfigFile.current.withLock { $0 }
        // Flags win; else agent.yaml's comma-separated scanner.allow and scanner.device_layouts.
        let scanners = !self.scanners.isEmpty ? self.scanners : Self.list(file.string("scanner.allow"))
        let deviceLayouts = !self.deviceLayouts.isEmpty ? self.deviceLayouts : Self.list(file.string("scanner.device_layouts"))
        var allowList: [VendorProduct] = []
        for text in scanners {
            guard let id = VendorProduct(text) else {
                throw .badInput("bad_scanner", "--scanner (scanner.allow in agent.yaml) '\(text.prefix(20))' must be VID:PID in hex, e.g. 05f9:2206")
            }
            allowList.append(id)
        }
        var layouts: [VendorProduct: String] = [:]
        for text in deviceLayouts {
            let parts = text.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let id = VendorProduct(String(parts[0])), !parts[1].isEmpty else {
                throw .badInput("bad_device_layout", "--device-layout (scanner.device_layouts in agent.yaml) '\(text.prefix(30))' must be VID:PID=layout, e.g. 05f9:2206=de")
            }
            layouts[id] = String(parts[1])
        }
        var keys: [ScanTerminator] = []
        for text in terminators {
            guard let key = ScanTerminator(rawValue: text) else {
                throw .badInput("bad_terminator", "--terminator '\(text.prefix(20))' must be one of enter, keypad-enter, tab")
            }
            keys.append(key)
        }
        guard (1...1000).contains(maxKeyGapMilliseconds) else {
            throw .badInput("bad_option", "--max-key-gap-milliseconds takes 1 to 1000")
        }
        return ScannerConfiguration(
            allowList: allowList, namePatterns: scannerNames, layouts: layouts,
            defaultLayout: layout ?? file.string("scanner.layout") ?? "us",
            terminators: keys.isEmpty ? [.enter, .keypadEnter] : keys, maximumKeyGapMilliseconds: maxKeyGapMilliseconds,
            rules: try MemberRanges.rules(flags: memberRanges, prefix: stripPrefix, suffix: stripSuffix))
    }

    private static func list(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
