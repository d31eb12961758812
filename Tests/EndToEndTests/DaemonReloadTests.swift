import Foundation
import TestSupport
import Testing

/// SIGHUP makes `loyalty-agent run` read agent.yaml again: a changed scanner layout applies to the
/// next scan without a restart; a broken file is refused and the running settings stay.
@Suite(.serialized) struct DaemonReloadTests {
    let folder = TemporaryFolder()

    @Test func sighupAppliesAChangedLayoutAndRefusesABrokenFile() throws {
        let database = folder.file("reload.db")
        let config = folder.file("agent.yaml")
        #expect(try AgentProcess.run(["init", "--store-id", "S-RELOAD", "--db", database]).exitCode == 0)
        #expect(try AgentProcess.run(["enroll", "2900000777774", "--db", database]).exitCode == 0)
        // The scanner types US keys, but the till says French AZERTY: digits come out as symbols.
        try "scanner:\n  layout: fr\n  allow: 0c2e:0b61\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try PluggedDaemon(
            devices: [
                .init(fixture: "honeywell-us-ean13", eventNumber: 5),
                .init(fixture: "honeywell-us-ean13", eventNumber: 7),
            ],
            arguments: ["--db", database, "--config", config], folder: folder)
        defer { daemon.stop() }
        try daemon.plugNext()
        try daemon.waitForLog { $0.components(separatedBy: "INFO scan").count > 3 }
        #expect(daemon.logText.contains("layout=fr"))
        let before = try daemon.keptScans()
        #expect(before.count == 3 && !before.contains { $0["status"] as? String == "member" }, "\(before)")

        // A broken file is refused; the agent keeps running on what it has.
        try "scanner:\n  layout: [fr\n".write(toFile: config, atomically: true, encoding: .utf8)
        kill(daemon.pid, SIGHUP)
        try daemon.waitForLog { $0.contains("reload refused") }
        #expect(daemon.process.isRunning)

        try "scanner:\n  layout: us\n  allow: 0c2e:0b61\n".write(toFile: config, atomically: true, encoding: .utf8)
        kill(daemon.pid, SIGHUP)
        try daemon.waitForLog { $0.contains("scanners reloaded") }
        try daemon.plugNext()
        try daemon.waitForLog { $0.components(separatedBy: "INFO scan").count > 6 }
        let after = try daemon.keptScans().dropFirst(3)
        #expect(after.map { $0["status"] as? String } == ["rejected", "member", "rejected"], "\(after)")
        #expect(
            after.dropFirst().first?["card"] as? String == "2900000777774"
                && after.dropFirst().first?["balance"] as? Int == 0)
        #expect(daemon.logText.contains("layout=us node=/dev/input/event7"))
        #expect(daemon.stop() == 0, "SIGTERM after reloads still stops cleanly")
    }
}
