public import Foundation
import SyncProtocol

/// How the agent reaches head office.
public struct SyncSettings: Sendable {
    /// Base URL, e.g. `https://hq.example.com` (a TLS-terminating proxy in front of loyalty-hq).
    public var headOfficeURL: URL
    public var storeId: String
    public var secret: String
    /// Bounds on one batch.
    public var batchMaximumEntries: Int
    public var batchMaximumBytes: Int
    /// Bound on batches per sync run, so one run always ends.
    public var maximumBatchesPerRun: Int
    public var requestTimeoutSeconds: Int64
    /// Where the secret came from: read again for every request, so a rotated secret takes effect at once.
    public var secretFile: String?
    /// A PEM file of the CA that signed head office's certificate (a private CA); nil: the system's.
    public var certificateAuthorityFile: String?

    public init(
        headOfficeURL: URL, storeId: String, secret: String, batchMaximumEntries: Int = 500, batchMaximumBytes: Int = 1 << 20,
        maximumBatchesPerRun: Int = 1_000, requestTimeoutSeconds: Int64 = 15
    ) {
        precondition(batchMaximumEntries > 0 && batchMaximumBytes > 1024 && maximumBatchesPerRun > 0)
        self.headOfficeURL = headOfficeURL
        self.storeId = storeId
        self.secret = secret
        self.batchMaximumEntries = batchMaximumEntries
        self.batchMaximumBytes = batchMaximumBytes
        self.maximumBatchesPerRun = maximumBatchesPerRun
        self.requestTimeoutSeconds = requestTimeoutSeconds
    }

    /// The secret this ledger signs with: the store's (read again from its file), or for one till of a store
    /// with several (`0042.3`) the till's own, derived from it.
    /// `forLedger`: another till of the store (the store hub relaying, or checking, its requests).
    public func signingSecret(forLedger ledgerName: String? = nil) throws -> String {
        let storeSecret = try secretFile.map { try SyncSettings.readSecret(path: $0) } ?? secret
        return RequestSigning.ledgerSecret(storeSecret: storeSecret, ledgerName: ledgerName ?? storeId)
    }

    /// Reads the store secret from a file (never from argv): one line, surrounding spaces ignored.
    public static func readSecret(path: String) throws -> String {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SyncFailure.configuration("cannot read the store secret file \(path); create it (mode 0600) with the secret `loyalty-hq stores add` printed")
        }
        // Whoever reads the secret can write this store's ledger at head office: only its owner may.
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
            throw SyncFailure.configuration(
                "the store secret file \(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))): "
                    + "chmod 600 \(path), owned by the agent's user")
        }
        let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !secret.isEmpty, !secret.contains("\n") else {
            throw SyncFailure.configuration("the store secret file \(path) must hold the secret on one line")
        }
        return secret
    }
}

/// Why a sync did not complete.
public enum SyncFailure: Error, CustomStringConvertible, Sendable {

    /// Head office could not be reached or did not answer in time; retry later.
    case unreachable(String)
    /// Head office refused the request (authentication, bad payload, conflict); retrying will not help.
    case refused(status: Int, code: String, message: String)
    /// Head office is up but failed (5xx); retry later.
    case headOfficeError(status: Int, message: String)
    case configuration(String)

    public var description: String {
        switch self {
        case .unreachable(let message): "head office unreachable: \(message)"
        case .refused(let status, let code, let message): "head office refused (\(status) \(code)): \(message)"
        case .headOfficeError(let status, let message): "head office error \(status): \(message)"
        case .configuration(let message): message
        }
    }

    /// Worth retrying with backoff.
    public var isTransient: Bool {
        switch self {
        case .unreachable, .headOfficeError: true
        case .refused, .configuration: false
        }
    }
}
