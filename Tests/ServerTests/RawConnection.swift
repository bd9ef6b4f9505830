import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A plain TCP connection to the bridge, for what HTTP clients do not do: half a request, a
/// request whose answer is never read, idling. Every connection is closed after 60 s at the
/// latest, and reading then fails, so a test waits on the server, never forever.
struct RawConnection {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let watchdog: Watchdog
    private var received = ByteBuffer()

    static func with<T>(port: Int, _ body: (inout RawConnection) async throws -> T) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        let watchdog = Watchdog(channel: channel.channel)
        defer { watchdog.stand.cancel() }
        return try await channel.executeThenClose { inbound, outbound in
            var connection = RawConnection(inbound: inbound.makeAsyncIterator(), outbound: outbound, watchdog: watchdog)
            return try await body(&connection)
        }
    }

    private init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, watchdog: Watchdog) {
        self.inbound = inbound
        self.outbound = outbound
        self.watchdog = watchdog
    }

    func send(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    /// Sends `text` unless the server has already closed the connection (what a timeout test
    /// waits for anyway, and may come first on a loaded machine).
    func sendUnlessClosed(_ text: String) async throws {
        do {
            try await send(text)
        } catch ChannelError.ioOnClosedChannel {
        } catch ChannelError.outputClosed {
        }
    }

    /// One response (head and a body of `content-length` bytes): its status and body.
    mutating func readResponse() async throws -> (status: Int, body: String) {
        while true {
            let text = String(buffer: received)
            if let end = text.range(of: "\r\n\r\n") {
                let head = text[..<end.lowerBound]
                let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                let bodyStart = text.utf8.distance(from: text.startIndex, to: end.upperBound)
                if received.readableBytes >= bodyStart + length {
                    let status = Int(head.split(separator: " ")[1]) ?? 0
                    received.moveReaderIndex(forwardBy: bodyStart)
                    let body = received.readString(length: length) ?? ""
                    received.discardReadBytes()
                    return (status, body)
                }
            }
            guard var more = try await inbound.next() else { throw Closed(watchdog: watchdog.fired) }
            received.writeBuffer(&more)
        }
    }

    /// Reads until what arrived (after the last response read) contains `text`; all of it.
    mutating func read(until text: String) async throws -> String {
        while !String(buffer: received).contains(text) {
            guard var more = try await inbound.next() else { throw Closed(watchdog: watchdog.fired) }
            received.writeBuffer(&more)
        }
        return String(buffer: received)
    }

    /// Waits until the server closes the connection; what it sent meanwhile. Throws if the
    /// watchdog closed it instead.
    mutating func readUntilClosed() async throws -> String {
        while var more = try await inbound.next() { received.writeBuffer(&more) }
        if watchdog.fired { throw Closed(watchdog: true) }
        return String(buffer: received)
    }

    struct Closed: Error, CustomStringConvertible {
        var watchdog: Bool
        var description: String { watchdog ? "the server did not close the connection within 60 s" : "the server closed the connection" }
    }

    private final class Watchdog: Sendable {
        private final class Flag: Sendable {
            let value = Mutex(false)
        }

        let stand: Task<Void, Never>
        private let flag: Flag

        init(channel: any Channel) {
            let flag = Flag()
            self.flag = flag
            stand = Task {
                guard (try? await Task.sleep(for: .seconds(60))) != nil else { return }
                flag.value.withLock { $0 = true }
                channel.close(promise: nil)
            }
        }

        var fired: Bool { flag.value.withLock { $0 } }
    }
}
