import TestSupport
import Foundation
import Testing

/// The real libudev + evdev + xkbcommon path, under umockdev: every recorded fixture in
/// device/fixtures must give exactly the scans its manifest lists.
@Suite(.serialized) struct ScannerFixtureTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("device/fixtures")

    struct Fixture: Decodable, CustomTestStringConvertible {
        var name: String
        var layout: String
        var scanArguments: [String]?
        var expect: [[String: String]]
        var testDescription: String { name }
        enum CodingKeys: String, CodingKey {
            case name, layout, expect
            case scanArguments = "scan_arguments"
        }
    }

    static var manifest: [Fixture] {
        struct Manifest: Decodable { var fixtures: [Fixture] }
        let data = try! Data(contentsOf: fixtures.appendingPathComponent("fixtures.json"))
        return try! JSONDecoder().decode(Manifest.self, from: data).fixtures
    }

    static func underUmockdev(_ fixture: String, events: Bool = true) -> [String] {
        let base = fixtures.appendingPathComponent(fixture).path
        return ["umockdev-run", "-d", base + ".umockdev"] + (events ? ["-e", "/dev/input/event5=\(base).evemu"] : []) + ["--"]
    }

    static func lines(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test(arguments: manifest)
    func everyFixtureGivesExactlyItsScans(_ fixture: Fixture) throws {
        let outcome = try AgentProcess.run(
            ["scan", "--layout", fixture.layout, "--timeout", "3"] + (fixture.scanArguments ?? []),
            launcher: Self.underUmockdev(fixture.name))
        #expect(outcome.exitCode == 0, "\(outcome.stderr)")
        let scans = Self.lines(outcome.stdout)
        #expect(scans.count == fixture.expect.count, "\(fixture.name): \(outcome.stdout)")
        for (scan, expected) in zip(scans, fixture.expect) {
            for (key, value) in expected {
                #expect(scan[key] as? String == value, "\(fixture.name) \(key): \(scan)")
            }
            if expected["status"] == "rejected" { #expect(scan["card"] == nil) }
        }
        // A bank card swiped by mistake never reaches output or logs, not even in part.
        #expect(!outcome.stdout.contains("411111") && !outcome.stderr.contains("411111"))
        #expect(!outcome.stdout.contains("DOE") && !outcome.stderr.contains("DOE"))
    }

    @Test func memberScansShowBalanceAndTierFromTheLedger() throws {
        let folder = TemporaryFolder()
        let db = folder.file("store.db")
        _ = try AgentProcess.run(["enroll", "2900000777774", "--db", db])
        _ = try AgentProcess.run(["award", "2900000777774", "--amount", "64.00", "--receipt", "R1", "--db", db])
        let outcome = try AgentProcess.run(
            ["scan", "--count", "1", "--timeout", "5", "--db", db], launcher: Self.underUmockdev("honeywell-us-ean13"))
        let scan = try #require(Self.lines(outcome.stdout).first { $0["status"] as? String == "member" })
        #expect(scan["card"] as? String == "2900000777774")
        #expect(scan["enrolled"] as? Bool == true)
        #expect(scan["balance"] as? Int == 64)
        #expect(scan["tier"] as? String == "base")
    }

    @Test func aPersonsKeyboardIsNeverGrabbedAndAFastUnknownTypistIsReportedNotGrabbed() throws {
        let keyboard = try AgentProcess.run(["devices", "--json"], launcher: Self.underUmockdev("human-keyboard-slow", events: false))
        let keyboardDevice = try #require((keyboard.json["devices"] as? [[String: Any]])?.first)
        #expect(keyboardDevice["role"] as? String == "keyboard")
        #expect(keyboardDevice["grabbed"] as? Bool == false)

        let typist = try AgentProcess.run(["devices", "--listen", "3", "--json"], launcher: Self.underUmockdev("unknown-fast-typist"))
        let typistDevice = try #require((typist.json["devices"] as? [[String: Any]])?.first)
        #expect(typistDevice["role"] as? String == "likely-scanner")
        #expect(typistDevice["grabbed"] as? Bool == false)
        // `scan` does not read it at all.
        let scan = try AgentProcess.run(["scan", "--timeout", "2"], launcher: Self.underUmockdev("unknown-fast-typist"))
        #expect(scan.stdout.isEmpty && !scan.stderr.contains("grabbed"))

        let scanner = try AgentProcess.run(["devices", "--json"], launcher: Self.underUmockdev("magtek-us-magstripe", events: false))
        let scannerDevice = try #require((scanner.json["devices"] as? [[String: Any]])?.first)
        #expect(scannerDevice["role"] as? String == "known-scanner")
        #expect(scannerDevice["vendor_product"] as? String == "0801:0001")
        #expect((scannerDevice["stable_id"] as? String)?.contains("B0A1234") == true)
    }

    /// One scanner set to German while the till's default is US: only --device-layout decodes it right.
    @Test func aPerDeviceLayoutOverridesTheDefault() throws {
        let launcher = Self.underUmockdev("datalogic-de-alphanumeric")
        let right = try AgentProcess.run(["scan", "--layout", "us", "--device-layout", "05f9:2206=de", "--count", "1", "--timeout", "5"], launcher: launcher)
        #expect(Self.lines(right.stdout).first?["card"] as? String == "ZYMZ42YZ")
        let wrong = try AgentProcess.run(["scan", "--layout", "us", "--count", "1", "--timeout", "5"], launcher: launcher)
        // Read as US, the German scanner's keys make no card: a scan must arrive, and be rejected.
        let misread = try #require(Self.lines(wrong.stdout).first, "no scan arrived: \(wrong.stdout)")
        #expect(misread["status"] as? String == "rejected" && misread["card"] == nil, "\(misread)")
        #expect(try AgentProcess.run(["scan", "--device-layout", "05f9:2206"]).exitCode == 2)
    }

    @Test func badScannerOptionsAreBadInput() throws {
        #expect(try AgentProcess.run(["scan", "--scanner", "zzzz"]).exitCode == 2)
        #expect(try AgentProcess.run(["scan", "--terminator", "space"]).exitCode == 2)
        let layout = try AgentProcess.run(["scan", "--layout", "klingon", "--timeout", "1"], launcher: Self.underUmockdev("honeywell-us-ean13"))
        #expect(layout.stderr.contains("klingon") && layout.stderr.contains("XKB"), "\(layout.stderr)")
    }
}

/// Hot-plug: a scanner added, removed and added again (with another event number) while the agent
/// runs — attached, detached, re-attached under the same stable id, its scans read each time.
@Suite struct HotPlugTests {
    @Test func aScannerIsAttachedDetachedAndReattached() throws {
        let folder = TemporaryFolder()
        let helper = try PluggedDaemon.compileHelper("hotplug-helper", in: folder)

        let fixture = ScannerFixtureTests.fixtures.appendingPathComponent("honeywell-us-ean13").path
        let first = try String(contentsOfFile: fixture + ".umockdev", encoding: .utf8)
        let second = first.replacingOccurrences(of: "event5", with: "event7").replacingOccurrences(of: "input5", with: "input7")
            .replacingOccurrences(of: "MINOR=69", with: "MINOR=71").replacingOccurrences(of: "dev=13:69", with: "dev=13:71")
        try second.write(toFile: folder.file("second.umockdev"), atomically: true, encoding: .utf8)
        func syspath(_ description: String) -> String { "/sys" + description.split(separator: "\n")[0].dropFirst(3) }

        let outcome = try AgentProcess.run(
            ["scan", "--timeout", "30"],
            launcher: [
                "umockdev-wrapper", helper, fixture + ".evemu", fixture + ".umockdev", syspath(first), "/dev/input/event5",
                folder.file("second.umockdev"), syspath(second), "/dev/input/event7", "--",
            ])
        #expect(outcome.exitCode == 0, "agent exit \(outcome.exitCode): \(outcome.stderr)")
        let log = outcome.stderr.split(separator: "\n").filter { $0.hasPrefix("attached") || $0.hasPrefix("detached") }
        #expect(log.count == 4, "\(outcome.stderr)")
        #expect(log.map { $0.split(separator: " ")[0] } == ["attached", "detached", "attached", "detached"])
        #expect(log[0].contains("/dev/input/event5") && log[2].contains("/dev/input/event7"))
        let ids = Set(log.map { $0.split(separator: " ")[1] })
        #expect(ids.count == 1, "the stable id changed on replug: \(ids)")
        let members = ScannerFixtureTests.lines(outcome.stdout).filter { $0["status"] as? String == "member" }
        #expect(members.count == 2 && members.allSatisfy { $0["card"] as? String == "2900000777774" })
        #expect(!outcome.stderr.contains("problem"))
    }
}
