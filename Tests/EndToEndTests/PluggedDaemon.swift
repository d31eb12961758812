import Foundation
import TestSupport
import Testing

/// `loyalty-agent run` under umockdev with no device present, behind `plug-on-signal`: the test
/// plugs each recorded scanner in when it is ready for its scans (a page is open, a setting reloaded).
final class PluggedDaemon {
    /// A recorded device and the event number it is plugged in as.
    struct Device {
        var fixture: String
        var eventNumber: Int
    }

    let process = Process()
    let url: String
    let log: String
    /// The ledger the daemon serves (`--db` in its arguments): its API token file is beside it.
    let database: String

    /// Starts the agent with `arguments` after `run --listen 127.0.0.1:0`; `devices` wait for ``plugNext()``.
    init(
        devices: [Device], arguments: [String], folder: TemporaryFolder, environment extra: [String: String] = [:]
    ) throws {
        database = arguments.firstIndex(of: "--db").map { arguments[$0 + 1] } ?? ""
        let helper = try Self.helper(folder)
        var deviceArguments: [String] = []
        for device in devices {
            let (description, syspath) = try Self.renumbered(device.fixture, to: device.eventNumber, in: folder)
            let events = ScannerFixtureTests.fixtures.appendingPathComponent(device.fixture + ".evemu").path
            deviceArguments += [description, syspath, "/dev/input/event\(device.eventNumber)", events]
        }
        let out = folder.file("plugged-\(UUID().uuidString.prefix(6)).out")
        log = folder.file("plugged-\(UUID().uuidString.prefix(6)).log")
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["umockdev-wrapper", helper] + deviceArguments + [
                "--", AgentProcess.binary, "run", "--listen", "127.0.0.1:0",
            ] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "LOYALTY_HQ_URL")
        environment.removeValue(forKey: "JOURNAL_STREAM")  // plain log lines unless a test asks for the journal's
        environment.merge(extra) { $1 }
        process.environment = environment
        process.standardOutput = FileHandle(forWritingAtPath: out)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        var found: String?
        for _ in 0..<300 where found == nil {
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
                found = String(text[range])
            }
            if found == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        let log = self.log
        url = try #require(
            found, "the daemon printed its address: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    deinit { stop() }

    var pid: Int32 { process.processIdentifier }
    var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Plugs in the next device and waits until the agent attached it.
    func plugNext() throws {
        let attached = logText.components(separatedBy: "attached ").count
        kill(pid, SIGUSR1)
        try waitForLog { $0.components(separatedBy: "attached ").count > attached }
    }

    /// Waits (at most 10 s) until the log satisfies `condition`.
    func waitForLog(_ condition: (String) -> Bool) throws {
        for _ in 0..<200 where !condition(logText) { Thread.sleep(forTimeInterval: 0.05) }
        try #require(condition(logText), "the daemon's log: \(logText)")
    }

    /// SIGTERM (passed on by the helper); returns the agent's exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning { kill(pid, SIGTERM) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// The scans the stream kept (at most its buffer), read from the start with `Last-Event-ID: 0`.
    func keptScans() throws -> [[String: Any]] {
        try Self.keptScans(url, token: Self.token(database: database), waitingSeconds: 2)
    }

    /// The POS client's API token of the daemon serving `database` (the file beside it).
    static func token(database: String) -> String {
        let file = URL(fileURLWithPath: database).deletingLastPathComponent().appendingPathComponent("api-token").path
        return ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The scan events `GET /v1/scans` sends within `waitingSeconds`, from the first one kept.
    static func keptScans(_ base: String, token: String, waitingSeconds: Int) throws -> [[String: Any]] {
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        curl.arguments = [
            "curl", "-s", "-N", "--max-time", "\(waitingSeconds)", "-H", "Last-Event-ID: 0",
            "-H", "Authorization: Bearer \(token)", base + "/v1/scans",
        ]
        let pipe = Pipe()
        curl.standardOutput = pipe
        try curl.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        curl.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("data: ") }
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.dropFirst(6).utf8)) as? [String: Any] }
    }

    /// `GET path` as text.
    func get(_ path: String) throws -> String {
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        curl.arguments = [
            "curl", "-s", "--max-time", "5", "-H", "Authorization: Bearer \(Self.token(database: database))", url + path,
        ]
        let pipe = Pipe()
        curl.standardOutput = pipe
        try curl.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        curl.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// The helper, compiled once per folder (needs libumockdev-dev).
    static func helper(_ folder: TemporaryFolder) throws -> String { try compileHelper("plug-on-signal", in: folder) }

    /// A C helper from `device/test-helpers/NAME.c`, compiled against libumockdev once per folder.
    static func compileHelper(_ name: String, in folder: TemporaryFolder) throws -> String {
        let source = ScannerFixtureTests.fixtures.deletingLastPathComponent().appendingPathComponent("test-helpers/\(name).c").path
        let helper = folder.file(name)
        guard !FileManager.default.isExecutableFile(atPath: helper) else { return helper }
        let compile = Process()
        compile.executableURL = URL(fileURLWithPath: "/bin/sh")
        compile.arguments = ["-c", "cc -o '\(helper)' '\(source)' $(pkg-config --cflags --libs umockdev-1.0)"]
        try compile.run()
        compile.waitUntilExit()
        try #require(compile.terminationStatus == 0, "\(name) did not compile (libumockdev-dev installed?)")
        return helper
    }

    /// A fixture's description as device `eventN` (umockdev cannot plug two devices under one node),
    /// and its sysfs path.
    static func renumbered(
        _ fixture: String, to number: Int, in folder: TemporaryFolder
    ) throws -> (path: String, syspath: String) {
        let original = try String(
            contentsOf: ScannerFixtureTests.fixtures.appendingPathComponent(fixture + ".umockdev"), encoding: .utf8)
        let description = original.replacingOccurrences(of: "event5", with: "event\(number)")
            .replacingOccurrences(of: "input5", with: "input\(number)")
            .replacingOccurrences(of: "MINOR=69", with: "MINOR=\(64 + number)")
            .replacingOccurrences(of: "dev=13:69", with: "dev=13:\(64 + number)")
        let path = folder.file("\(fixture)-event\(number).umockdev")
        try description.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, "/sys" + description.split(separator: "\n")[0].dropFirst(3))
    }
}

/// Headless Chromium driven by `Tests/PageDriver/page-driver.mjs` over the DevTools protocol.
enum PageDriver {
    /// Where screenshots are kept after the run: `.build/page-screenshots/`.
    static let screenshots: URL = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let folder = root.appendingPathComponent(".build/page-screenshots")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }()

    /// Runs the steps; fails the test with the driver's message when one fails.
    static func run(_ steps: [[String: Any]], folder: TemporaryFolder) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("PageDriver/page-driver.mjs").path
        let plan = folder.file("steps-\(UUID().uuidString.prefix(6)).json")
        try JSONSerialization.data(withJSONObject: ["viewport": [1024, 600], "steps": steps]).write(
            to: URL(fileURLWithPath: plan))
        let node = Process()
        node.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        node.arguments = ["node", "--no-warnings", "--experimental-websocket", script, plan]
        let errors = Pipe()
        node.standardError = errors
        node.standardOutput = FileHandle.nullDevice
        try node.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        node.waitUntilExit()
        try #require(node.terminationStatus == 0, "page driver: \(message)")
    }
}
