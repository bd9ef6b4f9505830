import Logging
import NIOCore

/// The first handler of every accepted connection. It closes a connection whose first request's
/// headers have not all arrived `headerReadTimeout` after it opened (half-open and trickling
/// connections; Hummingbird's idle timeout takes over once a first request was read), and it
/// tells `departure` when the client closes its side or the connection ends, so work done for a
/// client that left can be cancelled (`BridgeRequestContext.untilClientLeaves`).
final class ConnectionGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let departure = ClientDeparture()
    private let headerReadTimeout: TimeAmount
    private let logger: Logger
    private var deadline: Scheduled<Void>?
    private var headersRead = false
    /// Whether the bytes so far end a line; a line ending right after one ends the headers.
    private var atLineStart = false

    init(headerReadTimeout: TimeAmount, logger: Logger) {
        self.headerReadTimeout = headerReadTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startDeadline(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    func channelActive(context: ChannelHandlerContext) {
        startDeadline(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        departure.signal()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !headersRead, endsHeaders(unwrapInboundIn(data)) {
            headersRead = true
            deadline?.cancel()
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent { departure.signal() }
        if event is ChannelShouldQuiesceEvent, !headersRead {
            // The bridge is stopping and this connection has no request in progress.
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func startDeadline(_ context: ChannelHandlerContext) {
        guard deadline == nil, !headersRead else { return }
        let (channel, logger, timeout) = (context.channel, logger, headerReadTimeout)
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            logger.debug("closing a connection that sent no request headers in time", metadata: ["server.headerReadTimeout": "\(timeout)"])
            channel.close(promise: nil)
        }
    }

    /// Follows the bytes up to the blank line that ends a request's headers (CRLF or bare LF).
    private func endsHeaders(_ buffer: ByteBuffer) -> Bool {
        for byte in buffer.readableBytesView {
            switch byte {
            case UInt8(ascii: "\n"):
                if atLineStart { return true }
                atLineStart = true
            case UInt8(ascii: "\r"):
                continue
            default:
                atLineStart = false
            }
        }
        return false
    }
}
