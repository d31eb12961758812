import NIOCore

/// The connection a request came on, for the handlers that outlive a response's first bytes (the
/// scan stream): they end when the client goes away.
enum ClientConnection {
    /// Completes when the request's connection closes; nil outside ``TimerlessHTTPService``.
    @TaskLocal static var closed: EventLoopFuture<Void>?
}
