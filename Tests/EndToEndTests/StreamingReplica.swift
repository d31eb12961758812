import Foundation
import Testing

/// A PostgreSQL hot standby of the test server (`scripts/with-postgres`), made as an operator would:
/// `pg_basebackup -R` from the primary, then started on its own loopback port. Stopped and removed by
/// ``stop()``. As root, PostgreSQL runs as the `postgres` user (it refuses root), as in with-postgres.
final class StreamingReplica {
    let folder: String
    let port: Int
    private let bin: String

    /// - Parameter primary: the primary's URL (`postgres://postgres@127.0.0.1:PORT/...`).
    init(primary: String) throws {
        let components = try #require(URLComponents(string: primary))
        let primaryPort = components.port ?? 5432
        let candidates = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        let version = try #require(candidates.sorted { $0.compare($1, options: .numeric) == .orderedAscending }.last, "no PostgreSQL")
        bin = "/usr/lib/postgresql/\(version)/bin"
        folder = "/tmp/loyalty-replica-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        port = SyncChaosTests.freePort()
        if getuid() == 0 { try Self.run("/bin/chown", ["postgres", folder]) }
        try Self.run(
            "\(bin)/pg_basebackup",
            ["-h", components.host ?? "127.0.0.1", "-p", String(primaryPort), "-U", components.user ?? "postgres", "-D", "\(folder)/data",
             "-R", "-X", "stream", "-c", "fast"],
            asPostgres: true)
        // A standby needs at least the primary's connection slots (with-postgres raises them).
        let shown = try AgentProcess.run(["-At", primary, "-c", "SHOW max_connections"], executable: "/usr/bin/psql")
        let connections = try #require(Int(shown.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(shown.stderr)")
        do {
            try Self.run(
                "\(bin)/pg_ctl",
                ["-D", "\(folder)/data", "-w", "-l", "\(folder)/server.log", "-o",
                 "-p \(port) -k \(folder) -c listen_addresses=127.0.0.1 -c hot_standby=on -c max_connections=\(connections)",
                 "start"],
                asPostgres: true)
        } catch {
            let log = (try? String(contentsOfFile: "\(folder)/server.log", encoding: .utf8)) ?? ""
            Issue.record("the replica did not start: \(log)")
            throw error
        }
    }

    /// The replica's URL for `database` (the same database name as on the primary).
    func url(database: String) -> String { "postgres://postgres@127.0.0.1:\(port)/\(database)" }

    func stop() {
        try? Self.run("\(bin)/pg_ctl", ["-D", "\(folder)/data", "-m", "immediate", "stop"], asPostgres: true)
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Runs a PostgreSQL tool and requires exit 0 (as `postgres` when this process is root). Through
    /// `system`, not `Process`: `pg_ctl start` leaves the server running with the descriptors it inherited,
    /// and Foundation's `Process` then never sees the tool end.
    static func run(_ tool: String, _ arguments: [String], asPostgres: Bool = false) throws {
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("replica-\(UUID().uuidString).err").path
        defer { try? FileManager.default.removeItem(atPath: errors) }
        let words = (asPostgres && getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []) + [tool] + arguments
        let command = words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let status = system(command + " </dev/null >/dev/null 2>'\(errors)'")
        let message = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
        try #require(status == 0, "\(URL(fileURLWithPath: tool).lastPathComponent) failed (\(status)): \(message)")
    }
}
