import NIOCore
import NIOHTTPTypes

/// One per connection, after HTTP decoding: registers the connection (closing another one when a limit
/// is reached) and closes it when a request does not arrive in full within the request timeout, counted
/// from the connection's start or the end of the previous response — so a client that sends a byte a
/// second cannot hold a connection, whatever the idle timeout.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let registry: ConnectionRegistry
    private var deadline: Scheduled<Void>?

    init(registry: ConnectionRegistry) { self.registry = registry }

    private var id: ObjectIdentifier { ObjectIdentifier(self) }

    func handlerAdded(context: ChannelHandlerContext) {
        let client = context.channel.remoteAddress?.ipAddress ?? "unknown"
        if let victim = registry.open(id, client: client, channel: context.channel, nowNanoseconds: Self.now()) {
            victim.close(promise: nil)
        }
        armDeadline(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        registry.close(id)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        registry.close(id)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Busy (never closed to make room) only once the whole request has arrived: a client still
        // sending its head or body slowly is as evictable as an idle one (found by review: headers then a
        // 4 MiB body a byte at a time held 4,200 connections busy and kept every good request out).
        if case .end = unwrapInboundIn(data) {
            registry.setBusy(id, true, nowNanoseconds: Self.now())
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            registry.setBusy(id, false, nowNanoseconds: Self.now())
            armDeadline(context: context)
        }
        context.write(data, promise: promise)
    }

    private func armDeadline(context: ChannelHandlerContext) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: .seconds(Int64(registry.limits.requestTimeoutSeconds))) {
            channel.close(promise: nil)
        }
    }

    static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }
}
