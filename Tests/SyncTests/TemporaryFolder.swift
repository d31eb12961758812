import Foundation

/// A fresh folder under the system temp directory, removed when the test is done with it.
final class TemporaryFolder: Sendable {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "loyalty-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func file(_ name: String) -> String { path + "/" + name }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}
