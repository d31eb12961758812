import ArgumentParser
import Foundation
import LedgerStore
import LoyaltyCore
import StoreHub
import SyncClient

/// Where head office is and how this store proves who it is.
struct SyncOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Head office base URL (default: $LOYALTY_HQ_URL).", valueName: "url"))
    var hqURL: String?
    @Option(
        help: ArgumentHelp(
            "File holding this store's secret (default: $LOYALTY_STORE_SECRET_FILE, else /etc/loyalty-agent/store-secret).",
            valueName: "path"))
    var storeSecretFile: String?
    @Option(
        help: ArgumentHelp(
            "PEM file of the CA that signed head office's certificate (default: $LOYALTY_HQ_CA_FILE, else hq.ca_file in agent.yaml, else the system's).",
            valueName: "path"))
    var hqCaFile: String?
    @Flag(
        help:
            "Allow plain http:// to a head office beyond loopback (entries and secrets' signatures travel unencrypted)."
    )
    var insecureHttp = false

    /// Whether a head office URL is given (flag, environment or agent.yaml).
    var headOfficeConfigured: Bool {
        let url =
            hqURL ?? ProcessInfo.processInfo.environment["LOYALTY_HQ_URL"]
            ?? AgentConfigFile.current.withLock { $0.string("hq.url") }
        return !(url ?? "").isEmpty
    }

    /// The settings a store hub exchange needs: the ledger's name and the store's secret file. Head office's
    /// URL may be missing (a till that reaches only its hub); nothing then goes to head office with them.
    func storeSecretSettings(for ledger: LedgerDatabase) throws -> SyncSettings {
        if headOfficeConfigured { return try settings(for: ledger) }
        return try settings(for: ledger, headOfficeURL: "http://127.0.0.1:9")
    }

    func settings(for ledger: LedgerDatabase, headOfficeURL fallbackURL: String? = nil) throws -> SyncSettings {
        guard let storeId = ledger.assignedStoreId else {
            throw LoyaltyError.badInput(
                "store_unassigned",
                "this ledger has no store id yet: run `loyalty-agent init --store-id STORE_ID` once (or pass --store-id, "
                    + "set LOYALTY_STORE_ID or store_id in agent.yaml); sales made so far are pushed under that id")
        }
        let environment = ProcessInfo.processInfo.environment
        let file = AgentConfigFile.current.withLock { $0 }
        guard let text = hqURL ?? environment["LOYALTY_HQ_URL"] ?? file.string("hq.url") ?? fallbackURL, !text.isEmpty
        else {
            throw SyncFailure.configuration(
                "no head office URL: pass --hq-url https://hq.example.com, set LOYALTY_HQ_URL, or set hq.url in agent.yaml"
            )
        }
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw SyncFailure.configuration(
                "--hq-url '\(text.prefix(80))' must be an http(s) URL, e.g. https://hq.example.com")
        }
        // (Found by review: port 70000 trapped in NIO's socket address, killing the process.)
        if let port = url.port, !(1...65_535).contains(port) {
            throw SyncFailure.configuration("--hq-url '\(text.prefix(80))' has port \(port): a port is 1 to 65535")
        }
        let loopback = ["127.0.0.1", "localhost", "::1", "[::1]"].contains(url.host?.lowercased() ?? "")
        guard url.scheme == "https" || loopback || insecureHttp else {
            throw LoyaltyError.badInput(
                "insecure_hq_url",
                "--hq-url \(url.absoluteString.prefix(80)) is plain http beyond this box: the store's entries would travel "
                    + "unencrypted; use https:// (with --hq-ca-file for a private CA), or pass --insecure-http")
        }
        let secretPath =
            storeSecretFile ?? environment["LOYALTY_STORE_SECRET_FILE"] ?? file.string("hq.store_secret_file")
            ?? "/etc/loyalty-agent/store-secret"
        var settings = SyncSettings(
            headOfficeURL: url, storeId: storeId, secret: try SyncSettings.readSecret(path: secretPath))
        settings.secretFile = secretPath
        settings.certificateAuthorityFile = hqCaFile ?? environment["LOYALTY_HQ_CA_FILE"] ?? file.string("hq.ca_file")
        return settings
    }

    /// A sync client for one command's run; its HTTP client (when it has its own) is shut down after.
    /// Before `enroll` or `cards add`: head office is asked for the cards this till does not know (another store's
    /// members under `--pull-scope store`), within 5 s. Unreachable, the till decides alone as offline; a refusal
    /// (a wrong secret, a revoked store) is said on standard error, so it is not taken for being offline.
    func learnBeforeDeciding(ledger: LedgerDatabase, cards: [CardNumber]) async {
        guard headOfficeConfigured else { return }
        do {
            var quick = try settings(for: ledger)
            quick.requestTimeoutSeconds = min(quick.requestTimeoutSeconds, SyncClient.learningTimeoutSeconds)
            try await Self.withClient(ledger: ledger, settings: quick) {
                try await $0.learnMembersIfUnknown(cards: cards)
            }
        } catch SyncFailure.refused(_, let code, let message) {
            Printer.err(
                "loyalty-agent: head office refused to say whether it knows the card (\(code): \(message)); "
                    + "this till decided alone")
        } catch {
            // Offline: the till decides alone, as it always did.
        }
    }

    static func withClient<T>(
        ledger: LedgerDatabase, settings: SyncSettings, _ body: (SyncClient) async throws -> T
    ) async throws -> T {
        // Fail fast: an unreachable head office is reported at once, not after the request timeout.
        let http = try HeadOfficeHTTPClient.make(for: settings, failFast: true)
        do {
            let result = try await body(SyncClient(ledger: ledger, settings: settings, http: http))
            try? await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }
}

struct Sync: AsyncLedgerCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Push the entries head office has not acknowledged, pull member balances and blocked cards; print what moved.",
        discussion: "Exit 4 when head office is unreachable: nothing is lost, the entries stay in the outbox.")

    @OptionGroup var sync: SyncOptions
    @OptionGroup var hub: StoreHubOptions
    @OptionGroup var global: GlobalOptions

    /// With a store hub: what the exchange with it moved (or why it failed), beside head office's report.
    struct WithStoreHub: Encodable {
        var headOffice: SyncReport?
        var storeHub: HubExchangeReport?
        var storeHubError: String?
        var headOfficeError: String?
    }

    func execute(_ ledger: LedgerDatabase) async throws -> CommandOutput {
        let settings = try sync.settings(for: ledger)
        // The store hub first (the LAN): the store's other tills' entries count before head office's snapshots come.
        if let exchanged = try await hub.exchangeIfConfigured(ledger: ledger, settings: settings) {
            let hubLine: String
            var body = WithStoreHub()
            switch exchanged {
            case .success(let report):
                body.storeHub = report
                hubLine = report.summary
            case .failure(let failure):
                body.storeHubError = failure.description
                // Out of reach: alone until it is back. Refused: alone until the till's settings are put right.
                let until = if case .unreachable = failure { "until it is back" } else { "until this is put right" }
                hubLine = "Store hub: \(failure.description); this till works alone \(until)."
            }
            do {
                let report = try await SyncOptions.withClient(ledger: ledger, settings: settings) { client in
                    let report = try await client.syncOnce()
                    // On the hub's own box: the store's other tills' entries go on to head office too.
                    if hub.isTheHub(ledger) { _ = await HubRelay(ledger: ledger, headOffice: client).relayOnce() }
                    return report
                }
                body.headOffice = report
                return CommandOutput(json: body, human: hubLine + "\n" + Self.describe(report, ledger: ledger))
            } catch let failure as SyncFailure where failure.isTransient {
                body.headOfficeError = failure.description
                return CommandOutput(
                    json: body, human: hubLine + "\n" + failure.description + "; the entries stay in the outbox.",
                    exitCode: 4)
            }
        }
        let report = try await SyncOptions.withClient(ledger: ledger, settings: settings) {
            try await $0.syncOnce()
        }
        return CommandOutput(json: report, human: Self.describe(report, ledger: ledger))
    }

    static func describe(_ report: SyncReport, ledger: LedgerDatabase) -> String {
        """
        Synced store \(ledger.storeId) with head office: pushed \(report.pushedEntries) entries in \(report.batches) batches\
        \(report.duplicateEntries > 0 ? " (\(report.duplicateEntries) already there)" : ""); acknowledged up to \(report.acknowledgedSeq); \
        \(report.backlog) still waiting. Pulled \(report.membersUpdated) member updates and \(report.blockedCards) blocked cards.
        """ + (report.headOfficeClockAheadSeconds.map { Self.clockWarning(headOfficeAheadSeconds: $0) } ?? "")
    }
}

extension Sync {
    /// Said after a sync signed by head office's clock: the till's own clock is off (its sales keep its times).
    static func clockWarning(headOfficeAheadSeconds: Int64) -> String {
        let minutes = max(1, headOfficeAheadSeconds.magnitude / 60)
        return
            "\nThis till's clock is \(minutes) min \(headOfficeAheadSeconds > 0 ? "behind" : "ahead of") head office's: "
            + "synced and dating entries by head office's clock; set the till's clock right (NTP)."
    }
}

struct Daemon: AsyncLedgerCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Run the sync loop: sync every --interval seconds; on failure back off (exponential, jittered, capped).",
        discussion: "Stops on SIGTERM or SIGINT. Each attempt is logged as one JSON line on stdout.")

    @OptionGroup var sync: SyncOptions
    @Option(help: ArgumentHelp("Seconds between syncs when all is well.", valueName: "seconds")) var interval: Double =
        30
    @Option(help: ArgumentHelp("Longest wait between retries.", valueName: "seconds")) var maxBackoff: Double = 300
    @OptionGroup var global: GlobalOptions

    struct LogLine: Encodable {
        var event: String
        var report: SyncReport?
        var error: String?
    }

    func execute(_ ledger: LedgerDatabase) async throws -> CommandOutput {
        guard interval > 0, interval <= 86_400, maxBackoff >= 1, maxBackoff <= 86_400 else {
            throw SyncFailure.configuration("--interval and --max-backoff take 1 to 86400 seconds")
        }
        let settings = try sync.settings(for: ledger)
        let http = try HeadOfficeHTTPClient.make(for: settings, failFast: true)
        let loop = SyncLoop(
            client: SyncClient(ledger: ledger, settings: settings, http: http),
            intervalSeconds: interval, maximumBackoffSeconds: maxBackoff)
        installStopSignalHandlers()
        let task = Task {
            await loop.run { result in
                switch result {
                case .success(let report): Printer.out(Printer.json(LogLine(event: "synced", report: report)))
                case .failure(let error): Printer.out(Printer.json(LogLine(event: "sync_failed", error: "\(error)")))
                }
            }
        }
        while !stopRequested.load(ordering: .relaxed) {
            try? await Task.sleep(for: .milliseconds(100))
        }
        task.cancel()
        await task.value
        try? await http.shutdown()
        return CommandOutput(json: ["event": "stopped"], human: "sync loop stopped")
    }
}
