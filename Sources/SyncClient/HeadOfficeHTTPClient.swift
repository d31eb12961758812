public import AsyncHTTPClient
import NIOSSL

/// The HTTP clients the agent reaches head office with.
public enum HeadOfficeHTTPClient {
    /// A client for head office: it trusts `settings.certificateAuthorityFile` (a private CA's PEM) or
    /// else the system's roots, and never follows a redirect (a redirect could lead the store's signed
    /// entries to plain http, or to another host). The caller shuts it down.
    /// - Parameter failFast: no connection retries inside one attempt, 10 s to connect at most (the daemon's
    ///   loop backs off between attempts instead; a command reports an unreachable head office at once).
    public static func make(for settings: SyncSettings, failFast: Bool) throws(SyncFailure) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        // The request's deadline covers the wait for the answer's head; a head office that then goes
        // quiet mid-body (a cable pulled mid-answer) must end the attempt too, not hang it for ever.
        configuration.timeout.read = .seconds(settings.requestTimeoutSeconds)
        if failFast {
            configuration.connectionPool.retryConnectionEstablishment = false
            // Never beyond the request's own deadline (a cashier's 5 s wait for head office included: found by attack,
            // shutting the client down waited out a 10 s connect to a port that drops connections).
            configuration.timeout.connect = .seconds(min(10, settings.requestTimeoutSeconds))
        }
        if let path = settings.certificateAuthorityFile {
            let roots: [NIOSSLCertificate]
            do {
                roots = try NIOSSLCertificate.fromPEMFile(path)
            } catch {
                throw .configuration("cannot read head office's CA file \(path) (PEM certificates): \(error)")
            }
            guard !roots.isEmpty else { throw .configuration("head office's CA file \(path) holds no PEM certificate") }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(roots)
            tls.minimumTLSVersion = .tlsv12
            configuration.tlsConfiguration = tls
        }
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}
