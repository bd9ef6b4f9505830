import CCurl
import ChannelKit
import Foundation

/// Where and how mail leaves: an SMTP relay reached with libcurl.
public struct SMTPSettings: Sendable, Equatable {
    /// `smtp://host:587` (STARTTLS, required unless `allowPlaintext`) or `smtps://host:465` (TLS from the start).
    public var url: String
    public var username: String?
    public var password: String?
    /// The sender, `Name <address>`.
    public var from: String
    /// A PEM bundle of certificate authorities to trust instead of the system's (a private relay, tests).
    public var caFile: String?
    /// Only for a relay on the same host that offers no TLS; never sends a password in the clear.
    public var allowPlaintext: Bool
    /// Connections (and sends) at once. Campaign mail takes at most all but one of them, so a
    /// reply or an alert never queues behind a campaign.
    public var connections: Int
    /// How long one SMTP transaction may take, connecting included.
    public var timeout: Duration
    /// How long connecting may take, up to the relay's greeting.
    public var connectTimeout: Duration
    /// How long a reply, an alert or any other single mail waits for a free connection before it
    /// fails, to be tried again later. With `timeout`, its send then ends within the lease of the
    /// job that started it (alerts hold theirs 60 s, replies 120 s): a send still waiting when its
    /// lease ran out would go out twice, once here and once from the process that took the job
    /// over. Campaign mail waits as long as it takes (its recipients are held while their sender
    /// lives, not for a fixed time).
    public var connectionWait: Duration

    public init(
        url: String, username: String? = nil, password: String? = nil, from: String, caFile: String? = nil, allowPlaintext: Bool = false,
        connections: Int = 4, timeout: Duration = .seconds(30), connectTimeout: Duration = .seconds(10), connectionWait: Duration = .seconds(20)
    ) {
        self.url = url
        self.username = username
        self.password = password
        self.from = from
        self.caFile = caFile
        self.allowPlaintext = allowPlaintext
        self.connections = connections
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.connectionWait = connectionWait
    }
}

/// Sends e-mail through an SMTP relay with libcurl: STARTTLS (required unless configured
/// otherwise), AUTH with the relay's credentials, the server's certificate verified. Each of the
/// `connections` curl handles keeps its connection open between messages; a blocking send runs on
/// its own thread, never on Swift's cooperative pool. Failures are `SendError`s: 4xx and connection
/// trouble retryable, 5xx, refused logins, missing STARTTLS and untrusted certificates permanent.
public final class SMTPMailer: Sendable {
    public let settings: SMTPSettings
    private let pool: HandlePool

    public init(settings: SMTPSettings) {
        self.settings = settings
        _ = SMTPMailer.globalInit
        self.pool = HandlePool(count: max(1, settings.connections))
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Sends `message` to its `to` address; `bulk` for a campaign's mail.
    public func send(_ message: EmailMessage, bulk: Bool = false) async throws {
        let data = try message.rendered()
        let envelope = (from: try EmailMessage.address(message.from), to: try EmailMessage.address(message.to))
        let handle = try await pool.take(bulk ? nil : settings.connectionWait)
        let settings = self.settings
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, any Error>, Never>) in
            Thread.detachNewThread {
                continuation.resume(returning: Result { try Self.perform(handle, settings: settings, from: envelope.from, to: envelope.to, data: data) })
            }
        }
        await pool.give(handle, bulk: bulk)
        try outcome.get()
    }

    /// One blocking SMTP transaction on `handle`.
    private static func perform(_ handle: CurlHandle, settings: SMTPSettings, from: String, to: String, data: Data) throws {
        let curl = handle.raw
        curl_easy_reset(curl)
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        defer { errorBuffer.deallocate() }
        let recipients = curl_slist_append(nil, "<\(to)>")
        defer { curl_slist_free_all(recipients) }
        let upload = Unmanaged.passRetained(UploadBuffer(Array(data)))
        defer { upload.release() }

        bridge_curl_set_string(curl, CURLOPT_URL, settings.url)
        bridge_curl_set_long(curl, CURLOPT_USE_SSL, Int(settings.allowPlaintext ? CURLUSESSL_TRY.rawValue : CURLUSESSL_ALL.rawValue))
        if let username = settings.username { bridge_curl_set_string(curl, CURLOPT_USERNAME, username) }
        if let password = settings.password { bridge_curl_set_string(curl, CURLOPT_PASSWORD, password) }
        if let caFile = settings.caFile { bridge_curl_set_string(curl, CURLOPT_CAINFO, caFile) }
        bridge_curl_set_string(curl, CURLOPT_MAIL_FROM, "<\(from)>")
        bridge_curl_set_pointer(curl, CURLOPT_MAIL_RCPT, recipients)
        bridge_curl_set_read_function(curl) { buffer, size, items, context in
            guard let buffer, let context else { return 0 }
            return Unmanaged<UploadBuffer>.fromOpaque(context).takeUnretainedValue().read(into: buffer, max: size * items)
        }
        bridge_curl_set_pointer(curl, CURLOPT_READDATA, upload.toOpaque())
        bridge_curl_set_long(curl, CURLOPT_UPLOAD, 1)
        bridge_curl_set_long(curl, CURLOPT_NOSIGNAL, 1)
        bridge_curl_set_long(curl, CURLOPT_CONNECTTIMEOUT_MS, Int(settings.connectTimeout.components.seconds * 1000))
        bridge_curl_set_long(curl, CURLOPT_TIMEOUT_MS, Int(settings.timeout.components.seconds * 1000))
        bridge_curl_set_pointer(curl, CURLOPT_ERRORBUFFER, errorBuffer)

        let result = curl_easy_perform(curl)
        guard result != CURLE_OK else { return }
        let reply = bridge_curl_response_code(curl)
        let detail = String(cString: errorBuffer).isEmpty ? String(cString: curl_easy_strerror(result)) : String(cString: errorBuffer)
        throw classify(result, reply: reply, detail: detail)
    }

    /// A curl result and the server's last reply code as a `SendError`.
    static func classify(_ result: CURLcode, reply: Int, detail: String) -> SendError {
        switch result {
        case CURLE_LOGIN_DENIED: return .permanent("smtp_auth", "the relay refused the login: \(detail)")
        case CURLE_USE_SSL_FAILED: return .permanent("smtp_starttls", "the relay does not offer STARTTLS: \(detail)")
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
            return .permanent("smtp_certificate", "the relay's certificate is not trusted: \(detail)")
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: return .permanent("smtp_url", "the relay URL is not usable: \(detail)")
        default: break
        }
        switch reply {
        case 500..<600: return .permanent("smtp_\(reply)", "the relay answered \(reply): \(detail)")
        case 400..<500: return .retryable("smtp_\(reply)", "the relay answered \(reply): \(detail)")
        default: return .retryable("smtp_transport", "could not reach the relay: \(detail)")
        }
    }
}

/// A curl easy handle, used by one send at a time (the pool hands it out).
struct CurlHandle: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
}

/// The mailer's curl handles: a send waits for a free one, so at most `count` connections are
/// open. Single mail goes first: it takes any free handle and is handed the next one given back,
/// and waits a bounded time (`SMTPSettings.connectionWait`); bulk (campaign) mail holds at most
/// `count - 1` handles and waits for as long as it takes.
actor HandlePool {
    private typealias Waiter = (id: Int, continuation: CheckedContinuation<CurlHandle, any Error>)
    private var free: [CurlHandle]
    private var single: [Waiter] = []
    private var bulk: [Waiter] = []
    private var bulkHeld = 0
    private let bulkLimit: Int
    private var nextWaiter = 0

    init(count: Int) {
        free = (0..<count).compactMap { _ in curl_easy_init().map(CurlHandle.init) }
        bulkLimit = max(1, free.count - 1)
    }

    /// A handle for single mail, waiting at most `wait` (a retryable `smtp_busy` after it), or for
    /// bulk mail when `wait` is nil.
    func take(_ wait: Duration?) async throws -> CurlHandle {
        guard let wait else {
            if bulkHeld < bulkLimit, let handle = free.popLast() {
                bulkHeld += 1
                return handle
            }
            return try await withCheckedThrowingContinuation { bulk.append((next(), $0)) }
        }
        if let handle = free.popLast() { return handle }
        let id = next()
        let timer = Task { [weak self] in
            try await Task.sleep(for: wait)
            await self?.expire(id, after: wait)
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { single.append((id, $0)) }
    }

    func give(_ handle: CurlHandle, bulk wasBulk: Bool) {
        if wasBulk { bulkHeld -= 1 }
        if !single.isEmpty {
            single.removeFirst().continuation.resume(returning: handle)
        } else if !bulk.isEmpty, bulkHeld < bulkLimit {
            bulkHeld += 1
            bulk.removeFirst().continuation.resume(returning: handle)
        } else {
            free.append(handle)
        }
    }

    /// Sends waiting, of each kind (for tests).
    var singleWaiting: Int { single.count }
    var bulkWaiting: Int { bulk.count }

    private func next() -> Int {
        defer { nextWaiter += 1 }
        return nextWaiter
    }

    private func expire(_ id: Int, after wait: Duration) {
        guard let index = single.firstIndex(where: { $0.id == id }) else { return }
        single.remove(at: index).continuation.resume(
            throwing: SendError.retryable("smtp_busy", "no connection to the relay came free within \(wait): every one is sending"))
    }
}

/// The message bytes curl reads while it uploads `DATA`.
final class UploadBuffer {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func read(into buffer: UnsafeMutablePointer<CChar>, max: Int) -> Int {
        let count = min(max, bytes.count - offset)
        bytes.withUnsafeBufferPointer { source in
            UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }
}
