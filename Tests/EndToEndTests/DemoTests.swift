import Foundation
import TestSupport
import Testing

/// `loyalty-demo` (what `scripts/demo`, the README's first command, runs): the whole story runs and its
/// checks pass, with the scans read by `loyalty-agent scan` through udev + evdev under umockdev, and
/// without umockdev straight through the decoder.
@Suite(.serialized) struct DemoTests {
    static var demoBinary: String {
        URL(fileURLWithPath: AgentProcess.binary).deletingLastPathComponent().appendingPathComponent("loyalty-demo").path
    }

    @Test(arguments: [true, false])
    func theDemoRunsTheWholeStoryAndItsChecksPass(withUmockdev: Bool) throws {
        // Without umockdev: a PATH that has no umockdev-run.
        let environment = withUmockdev ? [:] : ["PATH": "/nonexistent"]
        let outcome = try AgentProcess.run(
            ["--serve-seconds", "0"], environment: environment, executable: Self.demoBinary)
        #expect(outcome.exitCode == 0, "\(outcome.stdout)\n\(outcome.stderr)")
        let text = outcome.stdout
        #expect(text.contains(withUmockdev ? "udev + evdev under umockdev" : "straight through the XKB decoder"))
        #expect(
            text.contains("/dashboard") && text.contains("/kiosk") && text.contains("/manager"), "where the pages are")
        #expect(text.contains("member card 2900000777774 (ean-13)") && text.contains("rejected: bad_check_digit"))
        #expect(text.contains("replayed=true, balance still 42"))
        #expect(text.contains("sync: head office unreachable"), "south was offline")
        #expect(text.contains("provisional: true"))
        #expect(text.contains("member •••••••••7774: balance 57"), "head office's one balance across both stores")
        #expect(text.contains("head office's total points 64 == the stores' ledgers 64: true"))
        // A store with two tills and a hub: the same points cannot be spent at both while the WAN is down.
        #expect(text.contains("till 1 knows Cleo through the hub: balance 50"))
        #expect(text.contains("the same 40 points at till 2: refused (the member has 10 points"), "\(text)")
        #expect(text.contains("head office's balance == till 1's == till 2's: true"))
    }

    /// Defect: the demo run outside the checkout (after the README's own `install` line) failed with
    /// "no scanner recordings found". The recording travels inside the binary; installed beside
    /// `loyalty-agent`, the demo reads the scans through it under umockdev, and `loyalty-agent demo`
    /// hands over to it.
    @Test func theDemoRunsFromInstalledBinariesOutsideTheCheckout() throws {
        let folder = TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.file("bin"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: AgentProcess.binary, toPath: folder.file("bin/loyalty-agent"))
        try FileManager.default.copyItem(atPath: Self.demoBinary, toPath: folder.file("bin/loyalty-demo"))
        let outcome = try AgentProcess.run(
            ["demo", "--serve-seconds", "0"], executable: folder.file("bin/loyalty-agent"),
            workingDirectory: folder.file("bin"))
        #expect(outcome.exitCode == 0, "\(outcome.stdout)\n\(outcome.stderr)")
        #expect(outcome.stdout.contains("member card 2900000777774 (ean-13)") && outcome.stdout.contains("/recordings/"))
        #expect(outcome.stdout.contains("udev + evdev under umockdev"), "the installed loyalty-agent read the scans")
        #expect(outcome.stdout.contains("head office's total points 64 == the stores' ledgers 64: true"))
    }

    /// A till without the demo installed says what to run instead, and exits 1.
    @Test func theTillWithoutTheDemoSaysWhereItIs() throws {
        let folder = TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.file("bin"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: AgentProcess.binary, toPath: folder.file("bin/loyalty-agent"))
        let outcome = try AgentProcess.run(
            ["demo", "--serve-seconds", "0"], environment: ["PATH": "/nonexistent"],
            executable: folder.file("bin/loyalty-agent"))
        #expect(outcome.exitCode == 1)
        #expect(outcome.stderr.contains("loyalty-demo") && outcome.stderr.contains("scripts/demo"), "\(outcome.stderr)")
    }

    /// The recording built into the binary is the one in device/fixtures (scripts/embed-demo-recording).
    @Test func theBuiltInRecordingIsTheFixture() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let swift = try String(
            contentsOf: root.appendingPathComponent("Sources/loyalty-demo/EmbeddedRecording.swift"), encoding: .utf8)
        for suffix in ["umockdev", "evemu"] {
            let fixture = try String(
                contentsOf: root.appendingPathComponent("device/fixtures/honeywell-us-ean13.\(suffix)"), encoding: .utf8)
            #expect(
                swift.contains("#\"\"\"\n" + fixture.trimmingCharacters(in: .newlines) + "\n\"\"\"#"),
                "run scripts/embed-demo-recording after changing the recording")
        }
    }
}

/// The demo's throw-away folder: refused clearly when unusable, never left behind after Ctrl-C.
@Suite struct DemoFolderTests {
    @Test func anUnusableFolderIsRefusedInPlainWords() throws {
        let outcome = try AgentProcess.run(
            ["--serve-seconds", "0", "--folder", "/proc/loyalty-demo"], executable: DemoTests.demoBinary)
        #expect(outcome.exitCode == 2, "\(outcome.stdout)\n\(outcome.stderr)")
        #expect(outcome.stderr.contains("cannot keep the demo's databases in /proc/loyalty-demo"), "\(outcome.stderr)")
    }

    @Test func anInterruptedDemoLeavesNoTemporaryFolder() throws {
        let folder = TemporaryFolder()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DemoTests.demoBinary)
        process.arguments = ["--serve-seconds", "300"]
        var environment = ProcessInfo.processInfo.environment
        environment["TMPDIR"] = folder.path
        process.environment = environment
        let output = folder.file("demo.out")
        FileManager.default.createFile(atPath: output, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // The story has run when the pages are announced; then Ctrl-C.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, !((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").contains("/kiosk") {
            Thread.sleep(forTimeInterval: 0.2)
        }
        let leftBehind = { try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("loyalty-demo-") } }
        #expect(try leftBehind().count == 1, "the demo works in a temporary folder")
        process.interrupt()
        process.waitUntilExit()
        #expect(process.terminationStatus == 128 + SIGINT)
        #expect(try leftBehind().isEmpty, "the temporary folder is removed on Ctrl-C")
    }
}
