public import HummingbirdCore

/// How an HTTP server of ours (head office, the till's API) defends itself against slow or greedy clients (a slowloris, a store
/// stuck in a retry loop, a password guesser). Every bound is explicit; `loyalty-hq serve` takes each as
/// an option.
public struct ConnectionLimits: Sendable, Equatable {
    /// Open connections in total. At the limit a new connection closes the oldest one that has not
    /// finished sending a request (a slow or idle client), so a good request is still answered; when
    /// every connection is busy with a request, the new one is closed.
    public var maximumConnections: Int
    /// Open connections from one address, handled the same way (behind a proxy every store shares its
    /// address: raise it there, the proxy limits per client).
    public var maximumConnectionsPerClient: Int
    /// A request's head and body must have arrived this long after the connection was opened or the
    /// previous response finished; else the connection is closed (a byte-a-second slowloris, or a
    /// keep-alive connection left idle).
    public var requestTimeoutSeconds: Int
    /// Headers of one request, in bytes (NIO's parser refuses more).
    public var maximumHeaderBytes: Int

    public static let standard = ConnectionLimits(
        maximumConnections: 4096, maximumConnectionsPerClient: 512, requestTimeoutSeconds: 30,
        maximumHeaderBytes: 16 * 1024)

    public init(
        maximumConnections: Int, maximumConnectionsPerClient: Int, requestTimeoutSeconds: Int, maximumHeaderBytes: Int
    ) {
        self.maximumConnections = maximumConnections
        self.maximumConnectionsPerClient = maximumConnectionsPerClient
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.maximumHeaderBytes = maximumHeaderBytes
    }

    /// The first limit out of its range, as `(option, reason)`.
    public var problem: (String, String)? {
        if !(1...1_000_000).contains(maximumConnections) { return ("--max-connections", "takes 1 to 1000000") }
        if !(1...maximumConnections).contains(maximumConnectionsPerClient) {
            return ("--max-connections-per-client", "takes 1 to --max-connections")
        }
        if !(1...3600).contains(requestTimeoutSeconds) { return ("--request-timeout", "takes 1 to 3600 seconds") }
        if !(1024...1_048_576).contains(maximumHeaderBytes) { return ("--max-header-bytes", "takes 1024 to 1048576") }
        return nil
    }
}

extension ConnectionLimits {
    /// The till's API: every client is on loopback, so the per-client limit is the total one.
    public static let tillStandard = ConnectionLimits(
        maximumConnections: 256, maximumConnectionsPerClient: 256, requestTimeoutSeconds: 30,
        maximumHeaderBytes: 16 * 1024)

    /// HTTP/1.1 with these limits: the connection guard after HTTP decoding, NIO's header limits, and
    /// the idle timeout. One connection registry per call: call it once per server.
    public func http1Configuration() -> HTTP1Channel.Configuration {
        let registry = ConnectionRegistry(limits: self)
        var configuration = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionGuardHandler(registry: registry)],
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: maximumHeaderBytes, maxHeaderListSize: maximumHeaderBytes, maxHeaderFieldCount: 100)
        )
        configuration.idleTimeout = .seconds(Int64(requestTimeoutSeconds))
        return configuration
    }

    /// A plain HTTP/1.1 server with these limits.
    public func serverBuilder() -> HTTPServerBuilder {
        .http1(configuration: http1Configuration())
    }
}
