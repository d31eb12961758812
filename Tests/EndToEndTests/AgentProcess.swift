import TestSupport
import Foundation

/// Runs the real `loyalty-agent` binary, as a POS script would.
enum AgentProcess {
    struct Outcome {
        var exitCode: Int32
        var stdout: String
        var stderr: String
        /// The one JSON object printed with `--json`.
        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any] ?? [:]
        }
    }

    /// The built binary: $LOYALTY_AGENT_BIN, else beside the test bundle, else the package's .build/debug.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["LOYALTY_AGENT_BIN"] { return path }
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("loyalty-agent").path
        if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return packageRoot.appendingPathComponent(".build/debug/loyalty-agent").path
    }

    /// Runs `arguments` (optionally behind a `launcher` such as `prlimit ... --`) and waits.
    static func run(
        _ arguments: [String], launcher: [String] = [], environment: [String: String] = [:], executable: String? = nil,
        workingDirectory: String? = nil
    ) throws -> Outcome {
        let binary = executable ?? Self.binary
        let folder = TemporaryFolder()
        let process = Process()
        if launcher.isEmpty {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = launcher + [binary] + arguments
        }
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "LOYALTY_AGENT_DB")
        env.removeValue(forKey: "LOYALTY_STORE_ID")
        env.merge(environment) { $1 }
        process.environment = env
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        FileManager.default.createFile(atPath: folder.file("out"), contents: nil)
        FileManager.default.createFile(atPath: folder.file("err"), contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: folder.file("out"))
        process.standardError = FileHandle(forWritingAtPath: folder.file("err"))
        try process.run()
        process.waitUntilExit()
        return Outcome(
            exitCode: process.terminationStatus,
            stdout: (try? String(contentsOfFile: folder.file("out"), encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: folder.file("err"), encoding: .utf8)) ?? "")
    }
}
