import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdHTTP2
import Logging
import NIOSSL
import Synchronization

/// A local HTTP server standing in for a platform's API: it records every request and answers from
/// scripted responses (per path) or from a default responder. Used by tests, `bridge demo` and benchmarks.
/// With a TLS configuration it serves HTTPS and negotiates HTTP/2 (APNs).
public final class PlatformStandIn: Sendable {
    /// A request as the stand-in received it.
    public struct RecordedRequest: Sendable {
        public var method: String
        /// Path with query string.
        public var path: String
        /// Lower-cased header names.
        public var headers: [String: String]
        public var body: Data
        /// The request came over HTTP/2.
        public var http2: Bool

        /// The body parsed as JSON.
        public var json: Any? { try? JSONSerialization.jsonObject(with: body) }
        /// The body as text.
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// An answer the stand-in gives.
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: Data
        /// How long to wait before answering (slow platforms, shutdown drains).
        public var delay: Duration

        public init(status: Int = 200, headers: [String: String] = [:], body: Data = Data(), delay: Duration = .zero) {
            self.status = status
            self.headers = headers
            self.body = body
            self.delay = delay
        }

        public static func json(_ text: String, status: Int = 200, headers: [String: String] = [:], delay: Duration = .zero) -> Reply {
            Reply(status: status, headers: headers.merging(["content-type": "application/json"]) { a, _ in a }, body: Data(text.utf8), delay: delay)
        }
    }

    public typealias Responder = @Sendable (RecordedRequest, _ baseURL: String) -> Reply

    private struct State {
        var requests: [RecordedRequest] = []
        var scripts: [String: [Reply]] = [:]
        var port: Int?
        var task: Task<Void, any Error>?
    }

    private let state = Mutex(State())
    private let responder: Responder
    private let tls: TLSConfiguration?

    public init(tls: TLSConfiguration? = nil, responder: @escaping Responder = { _, _ in .json("{}") }) {
        self.tls = tls
        self.responder = responder
    }

    /// Starts listening on 127.0.0.1 on a free port and returns once it accepts connections.
    public func start() async throws {
        let router = Router(context: StandInContext.self)
        for method in [HTTPRequest.Method.get, .post, .put, .delete] {
            router.on("**", method: method) { request, context in try await self.handle(request, http2: context.http2) }
        }
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, server: try tls.map { try .http2Upgrade(tlsConfiguration: $0) } ?? .http1(),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: Logger(label: "stand-in", factory: { _ in SwiftLogNoOpLogHandler() }))
        let task = Task { try await app.run() }
        var port = 0
        for await p in portStream { port = p }
        state.withLock {
            $0.port = port
            $0.task = task
        }
    }

    public func stop() async {
        let task = state.withLock { $0.task }
        task?.cancel()
        _ = await task?.result
    }

    /// `http://127.0.0.1:PORT` (`https` with TLS).
    public var baseURL: String { "\(tls == nil ? "http" : "https")://127.0.0.1:\(state.withLock { $0.port ?? 0 })" }

    /// Every request so far, in arrival order.
    public var requests: [RecordedRequest] { state.withLock { $0.requests } }

    /// Requests whose path starts with `prefix`.
    public func requests(to prefix: String) -> [RecordedRequest] { requests.filter { $0.path.hasPrefix(prefix) } }

    /// The next requests to `path` (exact, without query) get these replies in order; then the default responder.
    public func script(_ path: String, _ replies: [Reply]) {
        state.withLock { $0.scripts[path, default: []].append(contentsOf: replies) }
    }

    public func reset() {
        state.withLock {
            $0.requests = []
            $0.scripts = [:]
        }
    }

    private func handle(_ request: Request, http2: Bool) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 64 << 20)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let recorded = RecordedRequest(
            method: request.method.rawValue, path: request.uri.description, headers: headers, body: Data(buffer: body), http2: http2)
        let scripted: Reply? = state.withLock { state in
            state.requests.append(recorded)
            guard var queue = state.scripts[request.uri.path], !queue.isEmpty else { return nil }
            let next = queue.removeFirst()
            state.scripts[request.uri.path] = queue
            return next
        }
        let reply = scripted ?? responder(recorded, baseURL)
        if reply.delay > .zero { try await Task.sleep(for: reply.delay) }
        var fields = HTTPFields()
        for (name, value) in reply.headers {
            if let field = HTTPField.Name(name) { fields[field] = value }
        }
        return Response(status: .init(code: reply.status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
    }
}

/// The stand-in's request context: whether the request came on an HTTP/2 stream.
struct StandInContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let http2: Bool

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        http2 = "\(type(of: source.channel))".contains("HTTP2")
    }
}
