import Foundation

/// A fresh folder under the system temp directory, removed when the test is done with it.
public final class TemporaryFolder: Sendable {
    public let path: String
    public init() {
        path = NSTemporaryDirectory() + "loyalty-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    public func file(_ name: String) -> String { path + "/" + name }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}
