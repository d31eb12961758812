import ArgumentParser
import Foundation
import LoyaltyCore
import PointOfSaleAPI

/// Where the till's API token lives: `--api-token-file`, else `$LOYALTY_API_TOKEN_FILE`, else
/// `api.token_file` in agent.yaml, else `api-token` beside the ledger.
struct APITokenOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The POS client's API token file (default: $LOYALTY_API_TOKEN_FILE, else api.token_file in agent.yaml, else api-token beside the ledger).",
            valueName: "path"))
    var apiTokenFile: String?

    func path(global: GlobalOptions) -> String {
        if let apiTokenFile, !apiTokenFile.isEmpty { return apiTokenFile }
        if let path = ProcessInfo.processInfo.environment["LOYALTY_API_TOKEN_FILE"], !path.isEmpty { return path }
        if let path = AgentConfigFile.current.withLock({ $0.string("api.token_file") }) { return path }
        return URL(fileURLWithPath: global.databasePath).deletingLastPathComponent().appendingPathComponent("api-token")
            .path
    }

    /// The token file for the daemon: made on first start (a till used before it is configured still
    /// gets a token); refused with the reason when it is readable by others or malformed.
    func sourceForDaemon(global: GlobalOptions) throws(LoyaltyError) -> APITokenFile {
        let path = path(global: global)
        if !FileManager.default.fileExists(atPath: path) {
            do {
                try APITokenFile.write(path: path)
            } catch {
                throw .badInput("bad_api_token_file", error.description)
            }
            Printer.err("loyalty-agent: made the API token file \(path) (mode 0640); the POS client sends its token")
        }
        do {
            _ = try APITokenFile.read(path: path)
        } catch {
            throw .badInput("bad_api_token_file", error.description)
        }
        return APITokenFile(path: path)
    }
}

/// `loyalty-agent api-token`: where the POS client finds its token; `--rotate` replaces it.
struct APIToken: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-token",
        abstract:
            "Show where the POS client's API token is; --rotate replaces it (the running daemon takes it at once).",
        discussion: """
            The POS client sends the token as `Authorization: Bearer TOKEN` with every request to the till's API \
            (members, sales, redemptions, refunds). The file is mode 0640: give the POS application's user the file's \
            group (loyalty-pos on an installed box). The token itself is never printed.
            """)

    @Flag(help: "Write a new token (the old one stops working at once).") var rotate = false
    @OptionGroup var token: APITokenOptions
    @OptionGroup var global: GlobalOptions

    struct Output: Encodable {
        var tokenFile: String
        var rotated: Bool
    }

    func run() throws {
        let path = token.path(global: global)
        if rotate || !FileManager.default.fileExists(atPath: path) {
            do {
                try APITokenFile.write(path: path)
            } catch {
                throw LoyaltyError.refused("api_token_write", error.description)
            }
        } else {
            do {
                _ = try APITokenFile.read(path: path)
            } catch {
                throw LoyaltyError.badInput("bad_api_token_file", error.description)
            }
        }
        if global.json {
            Printer.out(Printer.json(Output(tokenFile: path, rotated: rotate)))
        } else {
            Printer.out((rotate ? "New API token written to " : "The API token is in ") + path)
        }
    }
}
