import HeadOffice
import Logging
import PostgresNIO

/// What a PostgreSQL server answers to one connection made beside the pool: the pool retries a start-up the
/// server refuses for ever, so a database that does not exist, a role that does not exist or a wrong password
/// looked like a server that was not there: the command waited its 15 s and said "did not answer" (found by attack).
enum PostgresStartUpCheck {
    /// Refusals that pass by themselves: the server is starting or shutting down, or has no connection free.
    /// The pool goes on waiting for those, as for a server that does not answer yet.
    static let passingStates: Set<String> = ["57P01", "57P02", "57P03", "53300"]

    /// The server's refusal of a start-up with `url` ("database \"x\" does not exist (SQLSTATE 3D000)"), or nil
    /// when it accepted, refused for a passing reason, or could not be reached.
    static func refusal(url: String) async -> String? {
        guard let pool = try? PostgresHeadOfficeStore.configuration(url: url), let host = pool.host else { return nil }
        var configuration = PostgresConnection.Configuration(
            host: host, port: pool.port ?? 5432, username: pool.username, password: pool.password,
            database: pool.database, tls: .disable)
        configuration.options.additionalStartupParameters = pool.options.additionalStartupParameters
        let quiet = Logger(label: "loyalty-hq.start-up-check") { _ in SwiftLogNoOpLogHandler() }
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: quiet)
            try? await connection.close()
            return nil
        } catch let error as PSQLError {
            guard let message = error.serverInfo?[.message] else { return nil }
            let state = error.serverInfo?[.sqlState]
            if let state, passingStates.contains(state) { return nil }
            return message + (state.map { " (SQLSTATE \($0))" } ?? "")
        } catch {
            return nil
        }
    }
}
