import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// The server's child channel under a `ConnectionPolicy`: a connection over `maxConnections` is
/// answered 503 and closed before any HTTP handler sees it; every other one gets a
/// `ConnectionGuard` first in its pipeline, then `base`'s HTTP handlers.
struct GuardedChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    enum Value: ServerChildChannelValue {
        case accepted(Base.Value)
        case refused(any Channel)

        var channel: any Channel {
            switch self {
            case .accepted(let value): value.channel
            case .refused(let channel): channel
            }
        }
    }

    let base: Base
    let policy: ConnectionPolicy
    /// Connections open now, shared by every connection of the server.
    private let open = OpenConnections()

    init(base: Base, policy: ConnectionPolicy) {
        self.base = base
        self.policy = policy
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard open.admit(upTo: policy.maxConnections) else {
            policy.onRefused()
            logger.debug("connection refused", metadata: ["server.maxConnections": "\(policy.maxConnections)"])
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(RefuseConnection())
                return .refused(channel)
            }
        }
        let open = self.open
        channel.closeFuture.whenComplete { _ in open.release() }
        do {
            try channel.pipeline.syncOperations.addHandler(ConnectionGuard(headerReadTimeout: TimeAmount(policy.headerReadTimeout), logger: logger))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return base.setup(channel: channel, logger: logger).map { .accepted($0) }
    }

    func handle(value: Value, logger: Logger) async {
        guard case .accepted(let accepted) = value else { return }
        await base.handle(value: accepted, logger: logger)
    }
}

/// A count of open connections with a ceiling.
private final class OpenConnections: Sendable {
    private let count = Mutex(0)

    /// Counts one more connection if there is room for it.
    func admit(upTo limit: Int) -> Bool {
        count.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func release() {
        count.withLock { $0 -= 1 }
    }
}

/// Answers a connection over the limit with a 503 and closes it, without reading its request.
private final class RefuseConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let answer: String = {
        let body = #"{"error":{"code":"too_many_connections","message":"the bridge has as many connections open as it takes; try again shortly"}}"#
        return "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n"
            + "connection: close\r\nretry-after: 1\r\n\r\n" + body
    }()

    private var answered = false

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { refuse(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context)
        context.fireChannelActive()
    }

    /// The request, if the client sent one already, is not read.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private func refuse(_ context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(string: Self.answer))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
