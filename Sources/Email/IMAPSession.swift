import CCurl
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where a support mailbox is read: `imap://host:143` (STARTTLS, required unless
/// `allowPlaintext`) or `imaps://host:993`, a login, and the mailbox (INBOX by default).
public struct IMAPSettings: Sendable, Equatable {
    public var url: String
    public var username: String
    public var password: String
    public var mailbox: String
    /// A PEM bundle of certificate authorities to trust instead of the system's (a private server, tests).
    public var caFile: String?
    /// Only for a server on the same host that offers no TLS.
    public var allowPlaintext: Bool
    /// How long one command may take before the connection is given up.
    public var timeout: Duration

    public init(
        url: String, username: String, password: String, mailbox: String = "INBOX", caFile: String? = nil, allowPlaintext: Bool = false,
        timeout: Duration = .seconds(60)
    ) {
        self.url = url
        self.username = username
        self.password = password
        self.mailbox = mailbox
        self.caFile = caFile
        self.allowPlaintext = allowPlaintext
        self.timeout = timeout
    }
}

/// Why an IMAP session failed. The password never appears in it.
public struct IMAPError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A blocking IMAP session on libcurl. libcurl connects, does TLS (or STARTTLS) and logs in
/// (`CURLOPT_CONNECT_ONLY`); the commands the bridge needs are then spoken over
/// `curl_easy_send`/`curl_easy_recv`: CAPABILITY, SELECT (UIDVALIDITY), UID SEARCH, UID FETCH
/// BODY.PEEK[] (literals read by their `{n}` length, so any byte may be in a mail), UID STORE,
/// APPEND and IDLE/DONE.
///
/// One thread at a time: the worker runs a session on a thread of its own, never on Swift's
/// cooperative pool (reads block).
public final class IMAPSession: @unchecked Sendable {
    private let curl: UnsafeMutableRawPointer
    private let timeout: Duration
    private var buffer: [UInt8] = []
    private var tagNumber = 0
    /// The server announced a new message (an untagged EXISTS in any answer) since the last
    /// UID SEARCH began: a mail that arrived between SEARCH and IDLE is announced before IDLE,
    /// and IDLE would then wait for the next one.
    private var newMailAnnounced = false
    /// Set from another thread to end an IDLE early (shutdown).
    private let stopFlag = StopFlag()

    /// Connects and logs in.
    public init(settings: IMAPSettings) throws(IMAPError) {
        _ = Self.globalInit
        guard let curl = curl_easy_init() else { throw IMAPError("could not create a curl handle") }
        self.curl = curl
        self.timeout = settings.timeout
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        defer { errorBuffer.deallocate() }
        bridge_curl_set_string(curl, CURLOPT_URL, settings.url)
        bridge_curl_set_long(curl, CURLOPT_USE_SSL, Int(settings.allowPlaintext ? CURLUSESSL_TRY.rawValue : CURLUSESSL_ALL.rawValue))
        bridge_curl_set_string(curl, CURLOPT_USERNAME, settings.username)
        bridge_curl_set_string(curl, CURLOPT_PASSWORD, settings.password)
        if let caFile = settings.caFile { bridge_curl_set_string(curl, CURLOPT_CAINFO, caFile) }
        bridge_curl_set_long(curl, CURLOPT_CONNECT_ONLY, 1)
        bridge_curl_set_long(curl, CURLOPT_NOSIGNAL, 1)
        // Connecting includes TLS and the login, which a busy server may take a while to answer.
        bridge_curl_set_long(curl, CURLOPT_CONNECTTIMEOUT_MS, Int(settings.timeout.components.seconds * 1000))
        bridge_curl_set_pointer(curl, CURLOPT_ERRORBUFFER, errorBuffer)
        let result = curl_easy_perform(curl)
        guard result == CURLE_OK else {
            let detail = String(cString: errorBuffer).isEmpty ? String(cString: curl_easy_strerror(result)) : String(cString: errorBuffer)
            // (deinit cleans the handle up: a class init that throws once initialized runs it.)
            throw IMAPError("could not log in to \(settings.url): \(detail)")
        }
        bridge_curl_set_pointer(curl, CURLOPT_ERRORBUFFER, nil)
    }

    deinit {
        curl_easy_cleanup(curl)
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    // MARK: Commands

    /// The server's capabilities after login (IDLE among them, or not).
    public func capabilities() throws(IMAPError) -> Set<String> {
        let response = try command("CAPABILITY")
        let line = response.untagged.first { $0.text.uppercased().hasPrefix("* CAPABILITY ") }?.text ?? ""
        return Set(line.split(separator: " ").dropFirst(2).map { $0.uppercased() })
    }

    /// Opens `mailbox` read-write and answers its UIDVALIDITY.
    public func select(_ mailbox: String) throws(IMAPError) -> UInt32 {
        let response = try command("SELECT \(Self.quoted(mailbox))")
        // SELECT reports the count it starts from; only later announcements are new mail.
        newMailAnnounced = false
        for line in response.untagged {
            if let range = line.text.range(of: "[UIDVALIDITY ") {
                let digits = line.text[range.upperBound...].prefix { $0.isNumber }
                if let value = UInt32(digits) { return value }
            }
        }
        throw IMAPError("SELECT \(mailbox) answered no UIDVALIDITY")
    }

    /// The UIDs above `after`, in order. (`n:*` always includes the last message, even below n.)
    public func uids(after: UInt32) throws(IMAPError) -> [UInt32] {
        newMailAnnounced = false
        let response = try command("UID SEARCH UID \(after &+ 1):*")
        var uids: [UInt32] = []
        for line in response.untagged where line.text.uppercased().hasPrefix("* SEARCH") {
            uids += line.text.split(separator: " ").dropFirst(2).compactMap { UInt32($0) }
        }
        return uids.filter { $0 > after }.sorted()
    }

    /// The whole message `uid`, without setting \Seen, and when the mailbox received it (its
    /// INTERNALDATE); nil when it is gone.
    public func fetch(uid: UInt32) throws(IMAPError) -> FetchedMail? {
        let response = try command("UID FETCH \(uid) (INTERNALDATE BODY.PEEK[])")
        guard let line = response.untagged.first(where: { $0.text.uppercased().contains("FETCH") && !$0.literals.isEmpty }), let raw = line.literals.first
        else { return nil }
        return FetchedMail(raw: raw, receivedAt: Self.internalDate(in: line.text))
    }

    /// The `INTERNALDATE "30-Nov-2026 07:22:07 +0000"` of a FETCH line (the day may be space-padded).
    static func internalDate(in text: String) -> Date? {
        guard let key = text.range(of: "INTERNALDATE \"", options: .caseInsensitive),
            let end = text[key.upperBound...].firstIndex(of: "\"")
        else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "d-MMM-yyyy HH:mm:ss Z"
        return formatter.date(from: text[key.upperBound..<end].trimmingCharacters(in: .whitespaces))
    }

    /// Marks `uid` \Seen (the mail is never deleted).
    public func markSeen(uid: UInt32) throws(IMAPError) {
        _ = try command("UID STORE \(uid) +FLAGS.SILENT (\\Seen)")
    }

    /// Adds a message to `mailbox`, received at `date` (now when nil): tests, and moving nothing else.
    public func append(_ message: Data, to mailbox: String, date: Date? = nil) throws(IMAPError) {
        let tag = nextTag()
        var internalDate = ""
        if let date {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "dd-MMM-yyyy HH:mm:ss '+0000'"
            internalDate = " \"\(formatter.string(from: date))\""
        }
        try send(Data("\(tag) APPEND \(Self.quoted(mailbox))\(internalDate) {\(message.count)}\r\n".utf8))
        let continuation = try readLine()
        guard continuation.text.hasPrefix("+") else { throw IMAPError("APPEND refused: \(continuation.text)") }
        try send(message + Data("\r\n".utf8))
        _ = try readResponse(tag: tag)
    }

    /// Waits in IDLE until the mailbox reports a new message (`true`), `limit` passes or `stop()`
    /// is called (`false`). The caller then searches for new UIDs.
    /// `started` runs once the server has entered IDLE.
    public func idle(limit: Duration, started: () -> Void = {}) throws(IMAPError) -> Bool {
        if newMailAnnounced {
            newMailAnnounced = false
            return true
        }
        let tag = nextTag()
        try send(Data("\(tag) IDLE\r\n".utf8))
        var arrived = false
        var line = try readLine()
        // Changes since the last command may be reported before the continuation.
        while line.text.hasPrefix("* ") {
            if Self.announcesMail(line.text) { arrived = true }
            line = try readLine()
        }
        guard line.text.hasPrefix("+") else { throw IMAPError("IDLE refused: \(line.text)") }
        started()
        let deadline = ContinuousClock.now + limit
        while !arrived, !stopFlag.isSet, ContinuousClock.now < deadline {
            // Wake at least every second to notice stop(); a new mail wakes at once.
            guard try waitReadable(for: min(.seconds(1), deadline - ContinuousClock.now)) else { continue }
            if Self.announcesMail(try readLine().text) { arrived = true }
        }
        try send(Data("DONE\r\n".utf8))
        _ = try readResponse(tag: tag)
        return arrived
    }

    private static func announcesMail(_ line: String) -> Bool {
        line.uppercased().hasSuffix(" EXISTS")
    }

    /// Ends an IDLE in progress (from another thread).
    public func stop() { stopFlag.set() }

    public func logout() {
        _ = try? command("LOGOUT")
    }

    // MARK: Protocol

    /// One line of a response and the literals (`{n}` data) it carried.
    struct Line {
        var text: String
        var literals: [Data]
    }

    struct Response {
        var untagged: [Line]
        var status: String
    }

    private func nextTag() -> String {
        tagNumber += 1
        return "B\(tagNumber)"
    }

    /// Sends `text` with a fresh tag and reads up to the tagged answer, which must be OK.
    private func command(_ text: String) throws(IMAPError) -> Response {
        let tag = nextTag()
        try send(Data("\(tag) \(text)\r\n".utf8))
        return try readResponse(tag: tag)
    }

    private func readResponse(tag: String) throws(IMAPError) -> Response {
        var untagged: [Line] = []
        while true {
            let line = try readLine()
            if line.text.hasPrefix(tag + " ") {
                let status = String(line.text.dropFirst(tag.count + 1))
                guard status.uppercased().hasPrefix("OK") else {
                    throw IMAPError("the server answered \(status.prefix(200))")
                }
                return Response(untagged: untagged, status: status)
            }
            if Self.announcesMail(line.text) { newMailAnnounced = true }
            untagged.append(line)
            if untagged.count > 1_000_000 { throw IMAPError("the server's answer does not end") }
        }
    }

    /// Largest literal accepted: a mail bigger than this is not a customer's message.
    static let maxLiteral = 64 << 20

    /// A line up to CRLF; a line ending in `{n}` is followed by n bytes of literal and continues after them.
    func readLine() throws(IMAPError) -> Line {
        var text = ""
        var literals: [Data] = []
        while true {
            let raw = try readRawLine()
            let piece = String(decoding: raw, as: UTF8.self)
            text += piece
            guard piece.hasSuffix("}"), let open = piece.lastIndex(of: "{"),
                  let count = Int(piece[piece.index(after: open)..<piece.index(before: piece.endIndex)].filter { $0 != "+" })
            else { return Line(text: text, literals: literals) }
            guard count <= Self.maxLiteral else { throw IMAPError("a literal of \(count) bytes is over the limit") }
            literals.append(try readBytes(count))
        }
    }

    private func readRawLine() throws(IMAPError) -> [UInt8] {
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                var line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                if line.last == 13 { line.removeLast() }
                return line
            }
            if buffer.count > 1 << 20 { throw IMAPError("a response line is over 1 MiB") }
            try fill()
        }
    }

    private func readBytes(_ count: Int) throws(IMAPError) -> Data {
        while buffer.count < count { try fill() }
        let bytes = Data(buffer[..<count])
        buffer.removeSubrange(..<count)
        return bytes
    }

    /// Reads what is there, waiting up to the timeout for something to arrive.
    private func fill() throws(IMAPError) {
        let deadline = ContinuousClock.now + timeout
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            var received = 0
            let result = chunk.withUnsafeMutableBytes { curl_easy_recv(curl, $0.baseAddress, $0.count, &received) }
            if result == CURLE_OK {
                guard received > 0 else { throw IMAPError("the server closed the connection") }
                buffer += chunk[..<received]
                return
            }
            guard result == CURLE_AGAIN else { throw IMAPError("reading from the server failed: \(String(cString: curl_easy_strerror(result)))") }
            guard ContinuousClock.now < deadline else { throw IMAPError("the server did not answer in time") }
            _ = try waitReadable(for: min(.seconds(1), deadline - ContinuousClock.now), checkBuffer: false)
        }
    }

    /// Whether there is something to read within `duration` (buffered, or on the socket).
    private func waitReadable(for duration: Duration, checkBuffer: Bool = true) throws(IMAPError) -> Bool {
        if checkBuffer, buffer.contains(10) { return true }
        let socket = bridge_curl_active_socket(curl)
        guard socket != CURL_SOCKET_BAD else { throw IMAPError("the connection is closed") }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let milliseconds = max(0, Int32(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000))
        let ready = poll(&descriptor, 1, milliseconds)
        if ready > 0 { return true }
        // TLS may hold decrypted bytes the socket no longer shows: try a read.
        if ready == 0, checkBuffer {
            var one = [UInt8](repeating: 0, count: 1)
            var received = 0
            let result = one.withUnsafeMutableBytes { curl_easy_recv(curl, $0.baseAddress, 1, &received) }
            if result == CURLE_OK, received == 1 {
                buffer.append(one[0])
                return true
            }
        }
        return false
    }

    private func send(_ data: Data) throws(IMAPError) {
        var offset = 0
        let bytes = [UInt8](data)
        let deadline = ContinuousClock.now + timeout
        while offset < bytes.count {
            var sent = 0
            let result = bytes[offset...].withUnsafeBytes { curl_easy_send(curl, $0.baseAddress, $0.count, &sent) }
            if result == CURLE_OK {
                offset += sent
            } else if result == CURLE_AGAIN, ContinuousClock.now < deadline {
                let socket = bridge_curl_active_socket(curl)
                var descriptor = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
                _ = poll(&descriptor, 1, 1000)
            } else {
                throw IMAPError("writing to the server failed: \(String(cString: curl_easy_strerror(result)))")
            }
        }
    }

    /// An IMAP quoted string.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

/// A flag one thread sets and another reads.
private final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

/// A message as fetched: its bytes and when the mailbox received it (nil when the server did not say).
public struct FetchedMail: Sendable, Equatable {
    public var raw: Data
    public var receivedAt: Date?
}
