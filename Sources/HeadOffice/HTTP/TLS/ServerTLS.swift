public import HummingbirdCore
public import Logging
public import NIOCore
public import NIOSSL
public import ServerLimits
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Head office's certificate and key, read from files and read again on request (SIGHUP): a renewed
/// certificate is used for every new connection without a restart; connections already open keep theirs.
public final class ServerTLS: Sendable {
    public let certificatePath: String
    public let keyPath: String
    private let context: Mutex<NIOSSLContext>

    /// Reads both files; throws with what is wrong.
    public init(certificatePath: String, keyPath: String) throws(TLSFileError) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        context = Mutex(try Self.makeContext(certificatePath: certificatePath, keyPath: keyPath))
    }

    /// The context for the next connection.
    var current: NIOSSLContext { context.withLock { $0 } }

    /// Reads the files again. On failure the running certificate stays and the error says why.
    public func reload() throws(TLSFileError) {
        let fresh = try Self.makeContext(certificatePath: certificatePath, keyPath: keyPath)
        context.withLock { $0 = fresh }
    }

    static func makeContext(certificatePath: String, keyPath: String) throws(TLSFileError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw TLSFileError("cannot read the certificate chain \(certificatePath) (PEM): \(error)")
        }
        guard let leaf = chain.first else { throw TLSFileError("\(certificatePath) holds no PEM certificate") }
        // Every till would refuse it: keep serving the certificate that still works.
        let now = time(nil)
        guard leaf.notValidBefore <= now, now < leaf.notValidAfter else {
            throw TLSFileError("the certificate in \(certificatePath) is not valid now (expired, or not yet valid)")
        }
        var info = stat()
        if stat(keyPath, &info) == 0, info.st_mode & 0o077 != 0 {
            throw TLSFileError(
                "the private key \(keyPath) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it"
            )
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw TLSFileError("cannot read the private key \(keyPath) (PEM): \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSFileError(
                "the certificate \(certificatePath) and key \(keyPath) do not make a TLS context: \(error)")
        }
    }
}

/// A certificate or key file that cannot be used.
public struct TLSFileError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A server child channel with TLS in front of `base`, taking ``ServerTLS``'s context at each new
/// connection (Hummingbird's own TLS channel keeps one context for the server's life).
struct ReloadableTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let tls: ServerTLS

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.current))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension ConnectionLimits {
    /// Head office's server with these limits, behind TLS when `tls` is given.
    public func serverBuilder(tls: ServerTLS?) -> HTTPServerBuilder {
        let configuration = http1Configuration()
        return HTTPServerBuilder { responder in
            let http = HTTP1Channel(responder: responder, configuration: configuration)
            guard let tls else { return http }
            return ReloadableTLSChannel(base: http, tls: tls)
        }
    }
}
