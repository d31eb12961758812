import Foundation
import TestSupport
import Testing

/// Head office over TLS with real certificates (openssl): the agent verifies head office against the CA
/// it is given, refuses plain HTTP beyond loopback, and a renewed certificate is taken on SIGHUP.
@Suite(.serialized) struct HeadOfficeTLSTests {
    let folder = TemporaryFolder()

    func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "openssl \(arguments.prefix(2))")
    }

    /// A CA named `name` and a certificate for 127.0.0.1 it signed: (ca.pem, cert.pem, key.pem).
    func authority(_ name: String) throws -> (ca: String, certificate: String, key: String) {
        let (ca, caKey) = (folder.file("\(name)-ca.pem"), folder.file("\(name)-ca.key"))
        let (key, request, certificate) = (folder.file("\(name).key"), folder.file("\(name).csr"), folder.file("\(name).pem"))
        let extensions = folder.file("\(name).ext")
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: extensions, atomically: true, encoding: .utf8)
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", caKey, "-out", ca,
            "-days", "2", "-subj", "/CN=\(name) test CA",
        ])
        try openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", request,
            "-subj", "/CN=127.0.0.1",
        ])
        try openssl([
            "x509", "-req", "-in", request, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-out", certificate, "-days", "2",
            "-extfile", extensions,
        ])
        chmod(key, 0o600)
        return (ca, certificate, key)
    }

    @Test func theAgentSyncsOverTLSVerifyingHeadOfficeAndARenewedCertificateIsTakenOnSighup() throws {
        let first = try authority("first")
        let database = folder.file("hq.db")
        let added = try AgentProcess.run(["stores", "add", "S1", "--db", database], executable: SyncChaosTests.hqBinary)
        let secret = try #require(added.stdout.split(separator: "\n").last.map(String.init))
        let secretFile = folder.file("S1.secret")
        FileManager.default.createFile(atPath: secretFile, contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600])
        let certificate = folder.file("served.pem")
        let key = folder.file("served.key")
        try FileManager.default.copyItem(atPath: first.certificate, toPath: certificate)
        try FileManager.default.copyItem(atPath: first.key, toPath: key)
        let server = try SyncChaosTests.Background(
            SyncChaosTests.hqBinary,
            ["serve", "--port", "0", "--db", database, "--tls-certificate", certificate, "--tls-key", key],
            output: folder.file("hq.out"))
        defer { server.stop() }
        try #require(server.waitFor(" (storage:"), "head office did not start")
        let line = try String(contentsOfFile: folder.file("hq.out"), encoding: .utf8)
        let port = try #require(Int(line.split(separator: "https://127.0.0.1:").last?.prefix { $0.isNumber } ?? ""), "\(line)")
        let till = folder.file("S1.db")
        #expect(try AgentProcess.run(["init", "--store-id", "S1", "--db", till]).exitCode == 0)
        #expect(try AgentProcess.run(["enroll", "2900000777774", "--db", till]).exitCode == 0)
        func sync(_ extra: [String]) throws -> AgentProcess.Outcome {
            try AgentProcess.run(
                ["sync", "--hq-url", "https://127.0.0.1:\(port)", "--store-secret-file", secretFile, "--db", till] + extra)
        }
        let trusted = try sync(["--hq-ca-file", first.ca])
        #expect(trusted.exitCode == 0, "\(trusted.stdout) \(trusted.stderr)")
        let untrusted = try sync([])
        #expect(untrusted.exitCode != 0, "a certificate the system does not trust is refused: \(untrusted.stdout)")

        // A renewed certificate from another CA: taken on SIGHUP, without a restart.
        let second = try authority("second")
        try FileManager.default.removeItem(atPath: certificate)
        try FileManager.default.removeItem(atPath: key)
        try FileManager.default.copyItem(atPath: second.certificate, toPath: certificate)
        try FileManager.default.copyItem(atPath: second.key, toPath: key)
        kill(server.process.processIdentifier, SIGHUP)
        var reloaded = false
        for _ in 0..<200 where !reloaded {
            reloaded = ((try? String(contentsOfFile: server.output + ".err", encoding: .utf8)) ?? "").contains("reloaded the TLS")
            if !reloaded { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(reloaded, "head office says it took the new certificate")
        #expect(try sync(["--hq-ca-file", second.ca]).exitCode == 0, "the new certificate is served")
        #expect(try sync(["--hq-ca-file", first.ca]).exitCode != 0, "the old CA no longer matches")
        #expect(server.process.isRunning)
    }

    @Test func plainHTTPToAHeadOfficeBeyondLoopbackIsRefusedUnlessAskedFor() throws {
        let till = folder.file("plain.db")
        #expect(try AgentProcess.run(["init", "--store-id", "S2", "--db", till]).exitCode == 0)
        let secretFile = folder.file("S2.secret")
        FileManager.default.createFile(atPath: secretFile, contents: Data("x".utf8), attributes: [.posixPermissions: 0o600])
        let refused = try AgentProcess.run(
            ["sync", "--hq-url", "http://192.0.2.1:8080", "--store-secret-file", secretFile, "--db", till])
        #expect(refused.exitCode == 2 && refused.stderr.contains("plain http"), "\(refused.stderr)")
        let daemon = try AgentProcess.run(
            ["run", "--no-scanners", "--listen", "127.0.0.1:0", "--hq-url", "http://192.0.2.1:8080", "--store-secret-file",
             secretFile, "--db", till])
        #expect(daemon.exitCode == 2 && daemon.stderr.contains("plain http"), "the daemon does not start: \(daemon.stderr)")
        // Asked for: the attempt is made (and fails to connect: nothing listens there).
        let insecure = try AgentProcess.run(
            ["sync", "--hq-url", "http://127.0.0.2:9", "--insecure-http", "--store-secret-file", secretFile, "--db", till])
        #expect(insecure.exitCode == 4, "\(insecure.stderr)")
    }
}
