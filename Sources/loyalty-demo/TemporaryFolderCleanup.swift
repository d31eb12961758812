import Foundation

/// Removes the demo's temporary folder when the demo is interrupted (SIGINT, SIGTERM, SIGHUP), then
/// ends with the signal's conventional exit status (128 + signal).
enum TemporaryFolderCleanup {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static func removeOnInterrupt(_ folder: String) {
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                try? FileManager.default.removeItem(atPath: folder)
                exit(128 + number)
            }
            source.resume()
            sources.append(source)
        }
    }
}
