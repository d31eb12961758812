import Foundation
import TestSupport
import Testing

/// An operator who mistypes the database or the user in head office's PostgreSQL URL is told what the server
/// said, not that it "did not answer" (found by attack: the pool retried the refused start-up until the 15 s
/// watchdog gave up with a guess).
@Suite struct PostgresRefusalTests {
    static func url(database: String? = nil, user: String? = nil, password: String? = nil) throws -> String {
        let base = try #require(
            ProcessInfo.processInfo.environment["LOYALTY_TEST_POSTGRES_URL"], "run through scripts/test")
        var components = try #require(URLComponents(string: base))
        if let database { components.path = "/" + database }
        if let user { components.user = user }
        if let password { components.password = password }
        return try #require(components.string)
    }

    @Test func aDatabaseThatDoesNotExistIsNamed() throws {
        let missing = "missing_" + UUID().uuidString.prefix(8).lowercased()
        let outcome = try AgentProcess.run(
            ["stores", "list", "--json", "--postgres", try Self.url(database: missing)],
            executable: SyncChaosTests.hqBinary)
        #expect(outcome.exitCode == 3)
        #expect(outcome.json["error"] as? String == "storage_failure")
        let message = outcome.json["message"] as? String ?? ""
        #expect(message.contains("database \"\(missing)\" does not exist"), "\(message)")
        #expect(message.contains("--postgres, $LOYALTY_HQ_POSTGRES or storage.postgres_url_file"), "\(message)")
    }

    @Test func aRoleThatDoesNotExistIsNamedAndItsPasswordIsNot() throws {
        let outcome = try AgentProcess.run(
            ["stores", "list", "--postgres", try Self.url(user: "nobody_here", password: "hunter2-secret")],
            executable: SyncChaosTests.hqBinary)
        #expect(outcome.exitCode == 3)
        #expect(outcome.stderr.contains("role \"nobody_here\" does not exist"), "\(outcome.stderr)")
        #expect(!(outcome.stdout + outcome.stderr).contains("hunter2-secret"))
    }
}
