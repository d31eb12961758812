public import Hummingbird
public import HummingbirdCore
public import Logging
public import NIOCore
import NIOPosix
public import ServerLimits
public import ServiceLifecycle
import Synchronization

/// The POS API's HTTP/1.1 server as a service, without Hummingbird's `Application` date-cache task:
/// that task wakes the process every second to format the `Date` header. A till's agent idles for
/// hours; here the header is formatted when a request comes, at most once per second, and an idle
/// daemon sleeps until a request, a scan or the sync interval.
public struct TimerlessHTTPService: Service {
    let responder: RouterResponder<BasicRequestContext>
    let address: BindAddress
    let logger: Logger
    let onServerRunning: @Sendable (any Channel) async -> Void
    /// Bounds on connections: a local program opening sockets and sending nothing cannot keep the POS out.
    let limits: ConnectionLimits

    public init(
        router: Router<BasicRequestContext>, address: BindAddress, logger: Logger,
        limits: ConnectionLimits = .tillStandard,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void
    ) {
        self.responder = router.buildResponder()
        self.address = address
        self.logger = logger
        self.limits = limits
        self.onServerRunning = onServerRunning
    }

    public func run() async throws {
        let responder = self.responder
        let logger = self.logger
        let dates = HTTPDateHeader()
        let server = try limits.fittedToDescriptorLimit().limits.serverBuilder().buildServer(
            configuration: ServerConfiguration(address: address), eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: logger
        ) { (request, responseWriter: consuming ResponseWriter, channel) in
            let context = BasicRequestContext(source: .init(channel: channel, logger: logger))
            // The scan stream subscribes while the response is made, and ends when this connection closes.
            var response = await ClientConnection.$closed.withValue(channel.closeFuture) {
                do {
                    return try await responder.respond(to: request, context: context)
                } catch {
                    return Response(status: .internalServerError)
                }
            }
            response.headers[.date] = dates.now()
            try await responseWriter.write(response: response.head, body: response.body)
        } onServerRunning: { channel in
            await onServerRunning(channel)
        }
        try await server.run()
    }
}

/// The `Date` header (RFC 9110 IMF-fixdate), formatted on demand and reused within the same second.
final class HTTPDateHeader: Sendable {
    private let cached = Mutex<(second: Int, text: String)>((-1, ""))

    func now() -> String {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        let second = Int(time.tv_sec)
        return cached.withLock { cached in
            if cached.second != second { cached = (second, Self.format(second)) }
            return cached.text
        }
    }

    static func format(_ secondsSince1970: Int) -> String {
        var seconds = time_t(secondsSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(1900 + parts.tm_year) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
