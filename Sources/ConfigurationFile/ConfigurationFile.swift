public import Configuration
public import Foundation
public import LoyaltyCore
import SystemPackage
import Yams

/// A program's YAML configuration file (`/etc/loyalty-agent/agent.yaml`, `/etc/loyalty-hq/hq.yaml`),
/// read through swift-configuration. Every key is declared with the kind of value it takes; a key the
/// program does not know, or a value of the wrong kind, is refused with the file, the line and the key,
/// before the program does anything.
public struct ConfigurationFile: Sendable {
    /// What a key's value must be.
    public enum ValueKind: Sendable, Equatable {
        /// A non-empty text value.
        case text
        /// A whole number in the range.
        case wholeNumber(ClosedRange<Int>)
        /// `HOST:PORT`: an IPv4 address, `[IPv6]` or a host name, and a port 0–65535.
        case address
        /// One of the words listed.
        case choice([String])

        /// Why `text` is not a value of this kind (nil: it is).
        public func problem(_ text: String) -> String? {
            switch self {
            case .text:
                return text.isEmpty ? "must be a non-empty text value" : nil
            case .wholeNumber(let range):
                guard let number = Int(text), String(number) == text, range.contains(number) else {
                    return "must be a whole number from \(range.lowerBound) to \(range.upperBound)"
                }
                return nil
            case .address:
                return ConfigurationFile.address(text) == nil
                    ? "must be HOST:PORT such as 127.0.0.1:8080 or [::1]:8080 (port 0 to 65535)" : nil
            case .choice(let words):
                return words.contains(text) ? nil : "must be one of " + words.joined(separator: ", ")
            }
        }
    }

    /// A configuration file is a few hundred bytes; a larger one is refused unread.
    public static let maximumBytes = 1 << 20

    /// The file read; nil when there is none.
    public let path: String?
    private let reader: ConfigReader?

    /// No file: every lookup answers nil.
    public static let empty = ConfigurationFile(path: nil, reader: nil)

    public func string(_ key: String) -> String? { reader?.string(forKey: ConfigKey(key)) }
    public func int(_ key: String) -> Int? { reader?.int(forKey: ConfigKey(key)) }

    /// `HOST:PORT` split: an IPv4 address, a bracketed IPv6 address (returned without brackets) or a host
    /// name of letters, digits, `-` and `.`; the port digits only, 0–65535. Nil when it is not one.
    public static func address(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let hostText = text[..<colon]
        let portText = text[text.index(after: colon)...]
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber),
            let port = Int(portText), (0...65535).contains(port)
        else { return nil }
        if hostText.hasPrefix("[") {
            guard hostText.hasSuffix("]"), hostText.count > 2 else { return nil }
            let inner = String(hostText.dropFirst().dropLast())
            var address = in6_addr()
            return inet_pton(AF_INET6, inner, &address) == 1 ? (inner, port) : nil
        }
        let host = String(hostText)
        guard !host.isEmpty, host.count <= 253, !host.contains(":") else { return nil }
        if host.allSatisfy({ $0.isNumber || $0 == "." }) {
            var address = in_addr()
            return inet_pton(AF_INET, host, &address) == 1 ? (host, port) : nil
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 && $0.first != "-" && $0.last != "-" }),
            host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") })
        else { return nil }
        return (host, port)
    }

    /// The file `--config PATH` (or `--config=PATH`) names in `arguments`, else `$variable`, else nil.
    public static func explicitPath(arguments: [String], environment: [String: String], variable: String) -> String? {
        var explicit = environment[variable].flatMap { $0.isEmpty ? nil : $0 }
        if let index = arguments.firstIndex(of: "--config"), index + 1 < arguments.count {
            explicit = arguments[index + 1]
        }
        if let flag = arguments.first(where: { $0.hasPrefix("--config=") }) {
            explicit = String(flag.dropFirst("--config=".count))
        }
        return explicit
    }

    /// Loads `explicitPath`, else `defaultPath` if it exists; a file named explicitly must exist. An empty
    /// file (or one of comments only) sets nothing.
    public static func load(
        explicitPath: String?, defaultPath: String, keys: [String: ValueKind]
    ) async throws(LoyaltyError) -> ConfigurationFile {
        let path = explicitPath ?? defaultPath
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            if explicitPath != nil { throw .badInput("bad_config", "configuration file \(path) does not exist") }
            return .empty
        }
        guard !isFolder.boolValue else {
            throw .badInput("bad_config", "configuration file \(path) is a folder, not a file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .badInput("bad_config", "configuration file \(path) cannot be read; check its owner and mode")
        }
        guard data.count <= maximumBytes else {
            throw .badInput(
                "bad_config", "configuration file \(path) is \(data.count) bytes; a configuration is at most 1 MiB")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .badInput("bad_config", "configuration file \(path) is not UTF-8 text")
        }
        guard try validate(text, path: path, keys: keys) else { return ConfigurationFile(path: path, reader: nil) }
        do {
            let provider = try await FileProvider<YAMLSnapshot>(filePath: FilePath(path))
            return ConfigurationFile(path: path, reader: ConfigReader(provider: provider))
        } catch {
            throw .badInput("bad_config", "\(path): \(String(describing: error).prefix(400))")
        }
    }

    /// Every key known, every value of its kind; a problem names the file, the line and the key.
    /// - Returns: false when the file sets nothing (empty, or comments only).
    @discardableResult
    public static func validate(_ text: String, path: String, keys: [String: ValueKind]) throws(LoyaltyError) -> Bool {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw .badInput("bad_config", "\(path) is not valid YAML: \(String(describing: error).prefix(600))")
        }
        guard let root, !Self.isNull(root) else { return false }
        let known = keys.keys.sorted().joined(separator: ", ")
        guard let mapping = root.mapping else {
            throw .badInput(
                "bad_config", "\(path) must be a mapping of keys to values, e.g. `\(keys.keys.sorted()[0]): …`")
        }
        func walk(_ mapping: Node.Mapping, prefix: String) throws(LoyaltyError) {
            for (name, value) in mapping {
                let line = (name.mark?.line).map { " line \($0)" } ?? ""
                let key = prefix.isEmpty ? (name.string ?? "?") : prefix + "." + (name.string ?? "?")
                let isGroup = keys.keys.contains(where: { $0.hasPrefix(key + ".") })
                if isGroup {
                    let members = keys.keys.filter { $0.hasPrefix(key + ".") }.sorted().joined(separator: ", ")
                    guard let nested = value.mapping else {
                        throw .badInput(
                            "bad_config",
                            "\(path)\(line): '\(key)' \(Self.isNull(value) ? "is empty" : "holds keys, not a value"): "
                                + "give some of \(members), or leave '\(key)' out")
                    }
                    try walk(nested, prefix: key)
                    continue
                }
                guard let kind = keys[key] else {
                    throw .badInput("bad_config", "\(path)\(line): unknown key '\(key)'; known keys: \(known)")
                }
                guard let scalar = value.scalar, !Self.isNull(value) else {
                    throw .badInput(
                        "bad_config",
                        "\(path)\(line): '\(key)' \(Self.isNull(value) ? "is empty" : "must be a single value")")
                }
                if let problem = kind.problem(scalar.string) {
                    throw .badInput("bad_config", "\(path)\(line): '\(key)' \(problem)")
                }
            }
        }
        try walk(mapping, prefix: "")
        return true
    }

    /// Checks the environment variables that stand for keys (`variable(key)`): each set one must be a value
    /// of its key's kind; a problem names the variable.
    public static func checkEnvironment(
        _ environment: [String: String], keys: [String: ValueKind], variable: (String) -> String
    ) throws(LoyaltyError) {
        for (key, kind) in keys.sorted(by: { $0.key < $1.key }) {
            let name = variable(key)
            guard let value = environment[name], !value.isEmpty else { continue }
            if let problem = kind.problem(value) { throw .badInput("bad_config", "$\(name) (\(key)) \(problem)") }
        }
    }

    /// `~`, `null` or nothing: YAML's null, which no key takes.
    static func isNull(_ node: Node) -> Bool {
        guard let scalar = node.scalar else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }
}
