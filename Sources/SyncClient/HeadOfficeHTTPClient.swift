public import AsyncHTTPClient
import NIOSSL

/// The HTTP clients the agent reaches head office with.
public enum HeadOfficeHTTPClient {
    /// A client that trusts `settings.certificateAuthorityFile` (a private CA's PEM) besides nothing else,
    /// or nil when the system's trust store is to be used (then ``HTTPClient/shared`` serves).
    /// - Parameter failFast: no connection retries inside one attempt, 10 s to connect (the daemon's
    ///   loop backs off between attempts instead).
    public static func make(for settings: SyncSettings, failFast: Bool) throws(SyncFailure) -> HTTPClient? {
        var configuration = HTTPClient.Configuration()
        if failFast {
            configuration.connectionPool.retryConnectionEstablishment = false
            configuration.timeout.connect = .seconds(10)
        }
        guard let path = settings.certificateAuthorityFile else {
            return failFast ? HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration) : nil
        }
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
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}
