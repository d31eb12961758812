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
    public enum ValueKind: Sendable {
        /// A non-empty text value.
        case text
        /// A whole number ≥ 0.
        case wholeNumber
    }

    /// The file read; nil when there is none.
    public let path: String?
    private let reader: ConfigReader?

    /// No file: every lookup answers nil.
    public static let empty = ConfigurationFile(path: nil, reader: nil)

    public func string(_ key: String) -> String? { reader?.string(forKey: ConfigKey(key)) }
    public func int(_ key: String) -> Int? { reader?.int(forKey: ConfigKey(key)) }

    /// The file `--config PATH` (or `--config=PATH`) names in `arguments`, else `$variable`, else nil.
    public static func explicitPath(arguments: [String], environment: [String: String], variable: String) -> String? {
        var explicit = environment[variable].flatMap { $0.isEmpty ? nil : $0 }
        if let index = arguments.firstIndex(of: "--config"), index + 1 < arguments.count { explicit = arguments[index + 1] }
        if let flag = arguments.first(where: { $0.hasPrefix("--config=") }) { explicit = String(flag.dropFirst("--config=".count)) }
        return explicit
    }

    /// Loads `explicitPath`, else `defaultPath` if it exists; a file named explicitly must exist.
    public static func load(
        explicitPath: String?, defaultPath: String, keys: [String: ValueKind]
    ) async throws(LoyaltyError) -> ConfigurationFile {
        let path = explicitPath ?? defaultPath
        guard FileManager.default.fileExists(atPath: path) else {
            if explicitPath != nil { throw .badInput("bad_config", "configuration file \(path) does not exist") }
            return .empty
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .badInput("bad_config", "configuration file \(path) cannot be read; check its owner and mode")
        }
        try validate(text, path: path, keys: keys)
        do {
            let provider = try await FileProvider<YAMLSnapshot>(filePath: FilePath(path))
            return ConfigurationFile(path: path, reader: ConfigReader(provider: provider))
        } catch {
            throw .badInput("bad_config", "\(path): \(error)")
        }
    }

    /// Every key known, every value of its kind; a problem names the file, the line and the key.
    public static func validate(_ text: String, path: String, keys: [String: ValueKind]) throws(LoyaltyError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw .badInput("bad_config", "\(path) is not valid YAML: \(String(describing: error).prefix(200))")
        }
        guard let root else { return }
        let known = keys.keys.sorted().joined(separator: ", ")
        guard let mapping = root.mapping else {
            throw .badInput("bad_config", "\(path) must be a mapping of keys to values, e.g. `\(keys.keys.sorted()[0]): …`")
        }
        func walk(_ mapping: Node.Mapping, prefix: String) throws(LoyaltyError) {
            for (name, value) in mapping {
                let line = (name.mark?.line).map { " line \($0)" } ?? ""
                let key = prefix.isEmpty ? (name.string ?? "?") : prefix + "." + (name.string ?? "?")
                if let nested = value.mapping {
                    guard keys.keys.contains(where: { $0.hasPrefix(key + ".") }) else {
                        throw .badInput("bad_config", "\(path)\(line): unknown key '\(key)'; known keys: \(known)")
                    }
                    try walk(nested, prefix: key)
                    continue
                }
                guard let kind = keys[key] else {
                    throw .badInput("bad_config", "\(path)\(line): unknown key '\(key)'; known keys: \(known)")
                }
                let scalar = value.scalar?.string
                switch kind {
                case .wholeNumber:
                    guard let scalar, let number = Int(scalar), number >= 0 else {
                        throw .badInput("bad_config", "\(path)\(line): '\(key)' must be a whole number ≥ 0")
                    }
                case .text:
                    guard let scalar, !scalar.isEmpty else {
                        throw .badInput("bad_config", "\(path)\(line): '\(key)' must be a non-empty text value")
                    }
                }
            }
        }
        try walk(mapping, prefix: "")
    }
}
