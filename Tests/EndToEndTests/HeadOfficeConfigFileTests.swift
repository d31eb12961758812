import Foundation
import TestSupport
import Testing

/// Head office's settings in one file, `/etc/loyalty-hq/hq.yaml` (or `--config`): listen, storage,
/// dashboard, TLS and limits; a wrong key or value stops it with the file, the line and the key; a flag
/// or an environment variable overrides the file.
@Suite struct HeadOfficeConfigFileTests {
    let folder = TemporaryFolder()

    @Test(arguments: [
        ("listen: 127.0.0.1:0\nlimts:\n  max_connections: 10\n", "line 2: unknown key 'limts'"),
        ("storage:\n  db: /tmp/x.db\n  dbb: /tmp/y.db\n", "line 3: unknown key 'storage.dbb'"),
        ("limits:\n  max_connections: many\n", "line 2: 'limits.max_connections' must be a whole number"),
        ("listen: [1, 2]\n", "line 1: 'listen' must be a single value"),
        ("listen: nowhere\n", "line 1: 'listen' must be HOST:PORT"),
        ("storage: [unclosed\n", "is not valid YAML"),
        // Found by an outside review: ranges, addresses and empty values are the file's errors too.
        ("limits:\n  max_connections: 0\n", "line 2: 'limits.max_connections' must be a whole number from 1"),
        ("limits:\n  credential_cache_seconds: 3601\n", "line 2: 'limits.credential_cache_seconds' must be a whole number"),
        ("listen: \"300.1.1.1:0\"\n", "line 1: 'listen' must be HOST:PORT"),
        ("listen: \"127.0.0.1:+80\"\n", "line 1: 'listen' must be HOST:PORT"),
        ("listen: \"[::1:0\"\n", "line 1: 'listen' must be HOST:PORT"),
        ("storage:\n  db: ~\n", "line 2: 'storage.db' is empty"),
        ("limits:\n", "line 1: 'limits' is empty"),
        ("sync:\n  pull_scope: everyone\n", "line 2: 'sync.pull_scope' must be one of chain, store"),
    ])
    func aWrongKeyOrValueStopsItWithItsLine(_ yaml: String, _ said: String) throws {
        let config = folder.file("hq-\(abs(yaml.hashValue)).yaml")
        try yaml.write(toFile: config, atomically: true, encoding: .utf8)
        let database = folder.file("never-\(abs(yaml.hashValue)).db")
        let outcome = try AgentProcess.run(
            ["serve", "--config", config, "--db", database], executable: SyncChaosTests.hqBinary)
        #expect(outcome.exitCode == 2, "\(outcome.stdout) \(outcome.stderr)")
        #expect(outcome.stderr.contains(said), "\(outcome.stderr)")
        #expect(!FileManager.default.fileExists(atPath: database), "started despite a bad configuration")
    }

    @Test func theFileConfiguresServeAndEveryCommandAndFlagsOverrideIt() throws {
        let database = folder.file("from-file.db")
        let password = folder.file("dashboard-password")
        FileManager.default.createFile(
            atPath: password, contents: Data("a long enough password\n".utf8), attributes: [.posixPermissions: 0o600])
        let config = folder.file("hq.yaml")
        try """
            listen: 127.0.0.1:0
            storage:
              db: \(database)
            dashboard:
              password_file: \(password)
            limits:
              max_connections: 64
              credential_cache_seconds: 5
            """.write(toFile: config, atomically: true, encoding: .utf8)
        // A command without --db uses the file's database.
        #expect(try AgentProcess.run(["stores", "add", "S-CONF", "--config", config], executable: SyncChaosTests.hqBinary).exitCode == 0)
        #expect(FileManager.default.fileExists(atPath: database))
        let server = try SyncChaosTests.Background(
            SyncChaosTests.hqBinary, ["serve", "--config", config], output: folder.file("serve.out"))
        defer { server.stop() }
        #expect(server.waitFor(" (storage:"), "\((try? String(contentsOfFile: folder.file("serve.out.err"), encoding: .utf8)) ?? "")")
        let line = (try? String(contentsOfFile: folder.file("serve.out"), encoding: .utf8)) ?? ""
        #expect(line.contains("storage: sqlite \(database)") && line.contains("dashboard at /dashboard"), "\(line)")
        // The environment overrides the file, a flag overrides both.
        let other = folder.file("from-environment.db")
        let listed = try AgentProcess.run(
            ["stores", "list", "--config", config, "--json"], environment: ["LOYALTY_HQ_DB": other],
            executable: SyncChaosTests.hqBinary)
        #expect(listed.exitCode == 0 && !listed.stdout.contains("S-CONF"), "\(listed.stdout)")
        let flagged = try AgentProcess.run(
            ["stores", "list", "--config", config, "--db", database, "--json"], environment: ["LOYALTY_HQ_DB": other],
            executable: SyncChaosTests.hqBinary)
        #expect(flagged.stdout.contains("S-CONF"), "\(flagged.stdout)")
    }

    @Test func everyCommandChecksTheEnvironmentAndAnEmptyFileSetsNothing() throws {
        let empty = folder.file("hq-empty.yaml")
        try "# everything commented out\n# listen: 127.0.0.1:8080\n".write(toFile: empty, atomically: true, encoding: .utf8)
        let database = folder.file("env.db")
        #expect(try AgentProcess.run(["stores", "list", "--config", empty, "--db", database], executable: SyncChaosTests.hqBinary).exitCode == 0)
        let bad = try AgentProcess.run(
            ["stores", "list", "--config", empty, "--db", folder.file("never.db")],
            environment: ["LOYALTY_HQ_LIMITS_MAX_CONNECTIONS": "abc"], executable: SyncChaosTests.hqBinary)
        #expect(bad.exitCode == 2 && bad.stderr.contains("$LOYALTY_HQ_LIMITS_MAX_CONNECTIONS"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.file("never.db")))
        // Help is there while a broken file is being fixed.
        let broken = folder.file("hq-broken.yaml")
        try "limts: 1\n".write(toFile: broken, atomically: true, encoding: .utf8)
        let help = try AgentProcess.run(["serve", "--help", "--config", broken], executable: SyncChaosTests.hqBinary)
        #expect(help.exitCode == 0 && help.stdout.contains("--max-connections"), "\(help.stdout) \(help.stderr)")
    }

    @Test func anIPv6AddressIsShownInBrackets() throws {
        let config = folder.file("hq-v6.yaml")
        try "listen: \"[::1]:0\"\nstorage:\n  db: \(folder.file("v6.db"))\n".write(toFile: config, atomically: true, encoding: .utf8)
        let server = try SyncChaosTests.Background(SyncChaosTests.hqBinary, ["serve", "--config", config], output: folder.file("v6.out"))
        defer { server.stop() }
        let started = server.waitFor(" (storage:", seconds: 30)
        let line = (try? String(contentsOfFile: folder.file("v6.out"), encoding: .utf8)) ?? ""
        let errors = (try? String(contentsOfFile: folder.file("v6.out.err"), encoding: .utf8)) ?? ""
        // A box without IPv6 on loopback cannot bind ::1: then it says so, and that is all this test can see.
        if started {
            #expect(line.contains("http://[::1]:"), "\(line)")
        } else {
            #expect(errors.contains("::1") || errors.contains("Address"), "\(errors)")
        }
    }

    @Test func aPostgresURLFileReadableByOthersIsRefused() throws {
        let urlFile = folder.file("postgres-url")
        FileManager.default.createFile(
            atPath: urlFile, contents: Data("postgres://hq:secret@127.0.0.1:1/hq\n".utf8), attributes: [.posixPermissions: 0o644])
        let config = folder.file("hq-postgres.yaml")
        try "storage:\n  postgres_url_file: \(urlFile)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let outcome = try AgentProcess.run(["stores", "list", "--config", config], executable: SyncChaosTests.hqBinary)
        #expect(outcome.exitCode == 2 && outcome.stderr.contains("readable by others"), "\(outcome.stderr)")
        #expect(!outcome.stderr.contains("secret"), "the password is never repeated")
    }
}
