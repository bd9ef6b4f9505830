@testable import BridgeServer
import ChannelKit
import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore
import PlatformStandIns
import Testing

/// The egress policy (issue 13, SSRF and slow remotes): what the bridge's one HTTP transport will
/// connect to, how long it waits, and what agents are told when it will not or cannot.
@Suite struct EgressTests {
    // MARK: The address rule

    @Test(arguments: [
        ("8.8.8.8", AddressScope.global), ("93.184.216.34", .global), ("172.32.0.1", .global), ("100.128.0.1", .global),
        ("127.0.0.1", .loopback), ("127.255.255.254", .loopback), ("10.1.2.3", .privateNetwork), ("172.16.0.1", .privateNetwork),
        ("172.31.255.255", .privateNetwork), ("192.168.1.1", .privateNetwork), ("169.254.1.1", .linkLocal), ("169.254.169.254", .metadata),
        ("100.100.100.200", .metadata), ("192.0.0.192", .metadata), ("0.0.0.0", .unspecified), ("0.1.2.3", .unspecified),
        ("100.64.0.1", .sharedAddressSpace), ("100.127.255.255", .sharedAddressSpace), ("224.0.0.1", .multicast),
        ("255.255.255.255", .reserved), ("198.18.0.1", .reserved),
        ("2606:4700:4700::1111", .global), ("::1", .loopback), ("::", .unspecified), ("fc00::1", .privateNetwork), ("fd12:3456::1", .privateNetwork),
        ("fe80::1", .linkLocal), ("febf::1", .linkLocal), ("fd00:ec2::254", .metadata), ("ff02::1", .multicast),
        // IPv6 forms of IPv4 addresses are judged as the IPv4 address.
        ("::ffff:127.0.0.1", .loopback), ("::ffff:7f00:1", .loopback), ("::ffff:169.254.169.254", .metadata), ("::ffff:10.0.0.1", .privateNetwork),
        ("::ffff:8.8.8.8", .global), ("::127.0.0.1", .loopback), ("64:ff9b::a9fe:a9fe", .metadata), ("64:ff9b::808:808", .global),
        ("2002:7f00:1::", .loopback), ("2002:c0a8:101::1", .privateNetwork),
    ])
    func addressScopes(address: String, scope: AddressScope) throws {
        #expect(AddressScope(try #require(IPAddress(address))) == scope)
    }

    @Test(arguments: [
        // entry, address or name, port, allowed
        ("127.0.0.1", "127.0.0.1", 8080, true), ("127.0.0.1", "127.0.0.2", 8080, false), ("127.0.0.1", "::ffff:127.0.0.1", 80, true),
        ("127.0.0.1:8080", "127.0.0.1", 8080, true), ("127.0.0.1:8080", "127.0.0.1", 8081, false),
        ("10.0.0.0/8", "10.200.1.1", 443, true), ("10.0.0.0/8", "11.0.0.1", 443, false), ("172.16.0.0/12", "172.31.0.1", 80, true),
        ("172.16.0.0/12", "172.32.0.1", 80, false), ("::ffff:10.0.0.0/104", "10.9.9.9", 80, true),
        ("::1", "::1", 80, true), ("[::1]:9000", "::1", 9000, true), ("[::1]:9000", "::1", 9001, false), ("fd00::/8", "fd12::1", 443, true),
        ("fd00::/8", "fc00::1", 443, false),
        ("media.corp.example", "media.corp.example", 443, true), ("media.corp.example", "other.corp.example", 443, false),
        ("*.corp.example", "a.b.corp.example", 443, true), ("*.corp.example", "corp.example", 443, false), ("*.corp.example", "evilcorp.example", 443, false),
        ("LocalHost:9000", "localhost", 9000, true), ("localhost:9000", "localhost", 80, false),
    ])
    func allowEntries(entry: String, target: String, port: Int, allowed: Bool) throws {
        let policy = EgressPolicy(allow: [try #require(EgressAllowEntry(entry))])
        let matched = IPAddress(target).map { policy.allowsAddress($0, port: port) } ?? policy.allowsName(target, port: port)
        #expect(matched == allowed)
    }

    @Test(arguments: ["", "10.0.0.0/33", "300.1.1.1/8", "host:0", "host:70000", "a b", "[::1", "[::1]x", "http://x", "*."])
    func malformedAllowEntries(entry: String) {
        #expect(EgressAllowEntry(entry) == nil)
    }

    @Test func destinationsAreCheckedAfterResolvingAndPinnedToTheCheckedAddress() async throws {
        let table: [String: [String]] = [
            "cdn.example": ["93.184.216.34", "2606:2800:220:1::1"], "mixed.example": ["93.184.216.34", "10.0.0.7"],
            "intranet.example": ["10.1.2.3"], "metadata.example": ["169.254.169.254"], "media.corp.example": ["10.9.9.9"],
        ]
        var policy = EgressPolicy(allow: [EgressAllowEntry("*.corp.example"), EgressAllowEntry("127.0.0.1:8080")].compactMap { $0 })
        policy.resolve = { host in
            guard let addresses = table[host] else { throw NoSuchHost() }
            return addresses.compactMap(IPAddress.init)
        }
        func refusal(_ url: String) async -> EgressRefusal.Reason? {
            do {
                _ = try await policy.destination(for: url)
                return nil
            } catch {
                return error.reason
            }
        }

        let cdn = try await policy.destination(for: "https://cdn.example/photo.jpg")
        #expect(cdn == EgressDestination(scheme: "https", host: "cdn.example", port: 443, pinned: IPAddress("93.184.216.34")))
        // An allow-listed name is trusted as it is; an address literal needs no lookup.
        #expect(try await policy.destination(for: "http://media.corp.example:81/x").pinned == nil)
        #expect(try await policy.destination(for: "http://8.8.8.8/x").pinned == nil)
        #expect(try await policy.destination(for: "http://127.0.0.1:8080/x").pinned == nil)

        #expect(await refusal("http://mixed.example/") == .internalAddress(try #require(IPAddress("10.0.0.7")), .privateNetwork))
        #expect(await refusal("http://intranet.example/") == .internalAddress(try #require(IPAddress("10.1.2.3")), .privateNetwork))
        #expect(await refusal("http://metadata.example/latest/meta-data/") == .internalAddress(try #require(IPAddress("169.254.169.254")), .metadata))
        #expect(await refusal("http://169.254.169.254/latest/meta-data/") == .internalAddress(try #require(IPAddress("169.254.169.254")), .metadata))
        #expect(await refusal("http://[::ffff:127.0.0.1]:9090/") == .internalAddress(try #require(IPAddress("::ffff:127.0.0.1")), .loopback))
        #expect(await refusal("http://127.0.0.1:8081/") == .internalAddress(try #require(IPAddress("127.0.0.1")), .loopback))
        #expect(await refusal("http://0.0.0.0:8080/") == .internalAddress(try #require(IPAddress("0.0.0.0")), .unspecified))
        #expect(await refusal("http://[fe80::1]/") == .internalAddress(try #require(IPAddress("fe80::1")), .linkLocal))
        #expect(await refusal("http://nowhere.example/") == .unresolvable)
        for url in ["ftp://cdn.example/x", "file:///etc/passwd", "unix:///var/run/docker.sock", "http+unix://%2Ftmp%2Fs/x", "gopher://cdn.example/", "cdn.example/x"] {
            #expect(await refusal(url) == .notHTTP, "\(url)")
        }
        #expect(await refusal("http:///x") == .noHost)
    }

    @Test func numericAndLocalNamesAreResolvedByTheSystemAndRefused() async throws {
        // Not address literals to inet_pton, but getaddrinfo reads them (no DNS needed): still loopback.
        let policy = EgressPolicy()
        let loopback = try #require(IPAddress("127.0.0.1"))
        for url in ["http://2130706433/", "http://127.1/"] {
            await #expect(throws: EgressRefusal(host: URL(string: url)?.host ?? "", port: 80, reason: .internalAddress(loopback, .loopback))) {
                _ = try await policy.destination(for: url)
            }
        }
        await #expect(throws: EgressRefusal.self) { _ = try await policy.destination(for: "http://localhost:8080/") }
    }

    struct NoSuchHost: Error {}

    @Test func configuration() throws {
        let config = try ConfigLoader.parse(yaml: """
            egress:
              allow: [127.0.0.1, "10.0.0.0/8", "[::1]:9000", "*.corp.example", "media.local:8443"]
              timeout: 45s
              readIdleTimeout: 5
            """)
        #expect(config.egress.allow.map(\.description) == ["127.0.0.1", "10.0.0.0/8", "[::1]:9000", "*.corp.example", "media.local:8443"])
        #expect(config.egress.timeout == .seconds(45))
        #expect(config.egress.readIdleTimeout == .seconds(5))
        #expect(try ConfigLoader.parse(yaml: "").egress.allow.isEmpty)
        #expect(throws: ConfigError(key: "egress.allow[1]", problem: #"must be a host name (*.example.com), an address or a block (10.0.0.0/8), with an optional :port; got "10.0.0.0/40""#)) {
            try ConfigLoader.parse(yaml: "egress: { allow: [127.0.0.1, 10.0.0.0/40] }")
        }
        #expect(throws: ConfigError(key: "egress.readIdleTimeout", problem: "must be more than 0 and at most 1h")) {
            try ConfigLoader.parse(yaml: "egress: { readIdleTimeout: 0s }")
        }
    }

    // MARK: The transport

    @Test func theTransportConnectsToTheAddressItCheckedNotToAFreshLookup() async throws {
        let cdn = PlatformStandIn { _, _ in .init(status: 200, headers: ["content-type": "image/png"], body: Data("png".utf8)) }
        try await cdn.start()
        defer { Task { await cdn.stop() } }
        let port = try #require(URL(string: cdn.baseURL)?.port)
        // `pinned.test` exists only in the policy's resolver: reaching the stand-in proves the
        // connection went to the checked address without async-http-client resolving the name again.
        var policy = EgressPolicy(allow: [EgressAllowEntry("127.0.0.1:\(port)")].compactMap { $0 })
        policy.resolve = { host in host == "pinned.test" ? [IPAddress("127.0.0.1")].compactMap { $0 } : [] }
        let transport = HTTPClientTransport(policy: policy)
        defer { Task { await transport.shutdown() } }
        let answer = try await transport.perform(TransportRequest(method: "GET", url: "http://pinned.test:\(port)/photo.png"))
        #expect(answer.status == 200)
        #expect(answer.body == Data("png".utf8))
        #expect(cdn.requests.map(\.path) == ["/photo.png"])
    }

    @Test func theTransportRefusesInternalDestinationsBeforeConnecting() async throws {
        let intranet = PlatformStandIn { _, _ in .json(#"{"secret":"s3cr3t"}"#) }
        try await intranet.start()
        defer { Task { await intranet.stop() } }
        let transport = HTTPClientTransport(policy: EgressPolicy())
        defer { Task { await transport.shutdown() } }
        for url in [intranet.baseURL + "/admin", "http://169.254.169.254/latest/meta-data/iam/", "file:///etc/passwd"] {
            await #expect(throws: TransportError.refused, "\(url)") {
                _ = try await transport.perform(TransportRequest(method: "POST", url: url, body: Data("{}".utf8)))
            }
        }
        #expect(intranet.requests.isEmpty)
        // What a send shows: nothing about the address or the port.
        #expect(SendError.classify(TransportError.refused).reason == "could not reach the remote server")
    }

    @Test(.timeLimit(.minutes(1))) func aRemoteThatStopsSendingIsCutOffByTheReadIdleTimeout() async throws {
        let trickle = try await TricklingServer.start(gap: .seconds(1), bytes: 600)
        defer { Task { await trickle.stop() } }
        var policy = EgressPolicy(allow: TestBridge.standInsAllowed)
        policy.readIdleTimeout = .milliseconds(200)
        let transport = HTTPClientTransport(policy: policy)
        defer { Task { await transport.shutdown() } }
        // Ten minutes of body at one byte a second; the first silence longer than 200 ms ends it.
        await #expect(throws: TransportError.unreachable) {
            _ = try await transport.perform(TransportRequest(method: "GET", url: trickle.url), maxResponseBytes: 1 << 20)
        }
    }

    @Test(.timeLimit(.minutes(1))) func aRemoteThatKeepsTricklingIsCutOffByTheDeadline() async throws {
        let trickle = try await TricklingServer.start(gap: .milliseconds(20), bytes: 100_000)
        defer { Task { await trickle.stop() } }
        var policy = EgressPolicy(allow: TestBridge.standInsAllowed)
        policy.timeout = .milliseconds(300)
        let transport = HTTPClientTransport(policy: policy)
        defer { Task { await transport.shutdown() } }
        // Never silent long enough for the idle timeout (10 s), but never done: the deadline ends it.
        await #expect(throws: TransportError.unreachable) {
            _ = try await transport.perform(TransportRequest(method: "GET", url: trickle.url), maxResponseBytes: 1 << 20)
        }
    }

    // MARK: Through the bridge

    @Test func aCustomersImageURLOnAnInternalServiceIsNotFetchedAndTheReasonSaysNothingAboutIt() async throws {
        let intranet = PlatformStandIn { _, _ in .init(status: 200, headers: ["content-type": "image/png"], body: Data("internal secret".utf8)) }
        let cdn = PlatformStandIn { request, _ in
            switch request.path {
            case "/moved.png": .init(status: 302, headers: ["location": "/photo.png"])
            default: .init(status: 200, headers: ["content-type": "image/png"], body: StandInPlatforms.sampleMedia)
            }
        }
        try await intranet.start()
        try await cdn.start()
        defer { Task { await intranet.stop(); await cdn.stop() } }
        let redirectToInternal = PlatformStandIn { _, _ in .init(status: 307, headers: ["location": intranet.baseURL + "/admin.png"]) }
        try await redirectToInternal.start()
        defer { Task { await redirectToInternal.stop() } }

        try await TestBridge.with(standIns: [.line], configure: Self.onlyStandIns(plus: [cdn, redirectToInternal])) { t in
            // Internal: on loopback like the stand-ins, but on a port egress.allow does not list.
            let refused = try await Self.lineImage(t, "01EGRESS1", url: intranet.baseURL + "/admin.png")
            #expect(refused["status"] as? String == "failed")
            #expect(refused["failureReason"] as? String == "could not fetch the image")

            // An allowed host redirecting to a refused one: the hop is checked and not taken.
            let redirected = try await Self.lineImage(t, "01EGRESS2", url: redirectToInternal.baseURL + "/photo.png")
            #expect(redirected["status"] as? String == "failed")
            #expect(redirected["failureReason"] as? String == "could not fetch the image")
            #expect(redirectToInternal.requests.count == 1)
            #expect(intranet.requests.isEmpty)

            // The same customer's image on an allowed host, through a redirect on it, is stored.
            let stored = try await Self.lineImage(t, "01EGRESS3", url: cdn.baseURL + "/moved.png")
            #expect(stored["status"] as? String == "stored")
            #expect(cdn.requests.map(\.path) == ["/moved.png", "/photo.png"])
        }
    }

    @Test func anAgentsImageURLOnAnInternalServiceFailsTheReplyWithoutDetail() async throws {
        let intranet = PlatformStandIn { _, _ in .init(status: 500, body: Data("stack trace".utf8)) }
        try await intranet.start()
        defer { Task { await intranet.stop() } }
        try await TestBridge.with(configure: Self.onlyStandIns()) { t in
            _ = try await t.postWeChat(Payloads.wechatText("7100000000000000001", "hello"))
            let ticket = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)
            let reply = try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"image":{"url":"\#(intranet.baseURL)/admin.jpg"}}"#)
            let id = try #require(reply.json["id"] as? Int)
            var failure: [String: Any] = [:]
            try await t.eventually("the reply failed") {
                let message = try await t.messages(ticket: ticket).first { $0["id"] as? Int == id }
                failure = message?["failure"] as? [String: Any] ?? [:]
                return message?["status"] as? String == "failed"
            }
            #expect(failure["reason"] as? String == "could not fetch the image")
            #expect(intranet.requests.isEmpty)
        }
    }

    @Test func anOutgoingWebhookToAnInternalAddressIsRefusedAtCreation() async throws {
        try await TestBridge.with { t in
            for url in [
                "http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/", "http://10.0.0.5:8500/v1/kv", "http://[::]:80/",
                "http://[fd00:ec2::254]/", "ftp://example.com/hook",
            ] {
                let reply = try await t.postJSON("/api/v1/webhooks", #"{"url":"\#(url)"}"#)
                #expect(reply.status == 422, "\(url)")
                #expect(reply.errorCode == "invalid_url", "\(url)")
            }
            #expect(try await t.postJSON("/api/v1/webhooks", #"{"url":"http://169.254.169.254/"}"#).errorMessage?.contains("metadata") == true)
            #expect(try await t.get("/api/v1/webhooks").items.isEmpty)
        }
    }

    @Test func pushSubscriptionsMustBeARealKeyOnAPushServiceAndStayWithTheirAgent() async throws {
        let vapid = P256.Signing.PrivateKey()
        try await TestBridge.with(configure: {
            $0.notifier.vapidPrivateKey = Base64URL.encode(vapid.rawRepresentation)
            $0.egress.allow = []
        }) { t in
            let ann = try await t.addAgent("Ann")
            let bob = try await t.addAgent("Bob")
            let key = Base64URL.encode(P256.KeyAgreement.PrivateKey().publicKey.x963Representation)
            let auth = Base64URL.encode(Data((0..<16).map { _ in UInt8.random(in: 0...255) }))
            func subscribe(_ endpoint: String, p256dh: String = key, auth: String = auth, as agent: TestBridge.AgentLogin) async throws -> TestBridge.Reply {
                try await t.postJSON(
                    "/api/v1/me/push-subscriptions", #"{"endpoint":"\#(endpoint)","keys":{"p256dh":"\#(p256dh)","auth":"\#(auth)"}}"#, token: agent.token)
            }
            let endpoint = "https://fcm.googleapis.com/fcm/send/dGVzdC1lbmRwb2ludA:APA91b"
            #expect(try await subscribe(endpoint, as: ann).status == 201)
            #expect(try await subscribe("https://updates.push.services.mozilla.com/wpush/v2/gAAAAA", as: ann).status == 201)
            #expect(try await subscribe("https://wns2-par02p.notify.windows.com/w/?token=BQYAAA", as: ann).status == 201)

            // 65 bytes starting 04, but not a point on the curve.
            let offCurve = Base64URL.encode(Data([0x04] + [UInt8](repeating: 0x01, count: 64)))
            #expect(try await subscribe(endpoint + "x", p256dh: offCurve, as: ann).errorCode == "invalid_keys")
            #expect(try await subscribe(endpoint + "x", auth: Base64URL.encode(Data(count: 8)), as: ann).errorCode == "invalid_keys")
            for bad in [
                "http://fcm.googleapis.com/fcm/send/x", "https://push.evil.example/x", "https://fcm.googleapis.com.evil.example/x",
                "https://fcm.googleapis.com:8443/x", "https://127.0.0.1/x", "https://169.254.169.254/x", "file:///etc/passwd",
            ] {
                #expect(try await subscribe(bad, as: ann).errorCode == "invalid_endpoint", "\(bad)")
            }

            // Bob registering Ann's endpoint does not take her alerts.
            let taken = try await subscribe(endpoint, as: bob)
            #expect(taken.status == 409)
            #expect(taken.errorCode == "endpoint_taken")
            #expect(try await t.get("/api/v1/me/push-subscriptions", token: bob.token).items.isEmpty)
            #expect(try await t.get("/api/v1/me/push-subscriptions", token: ann.token).items.map { $0["endpoint"] as? String }.contains(endpoint))
            // Ann renewing her own subscription is fine.
            #expect(try await subscribe(endpoint, as: ann).status == 201)
            #expect(try await t.get("/api/v1/me/push-subscriptions", token: ann.token).items.count == 3)
        }
    }

    @Test func aStoredPushSubscriptionTheTransportRefusesIsDroppedNotPosted() async throws {
        let intranet = PlatformStandIn { _, _ in .init(status: 201) }
        try await intranet.start()
        defer { Task { await intranet.stop() } }
        let vapid = P256.Signing.PrivateKey()
        try await TestBridge.with(standIns: [.line], configure: {
            Self.onlyStandIns()(&$0)
            $0.notifier.vapidPrivateKey = Base64URL.encode(vapid.rawRepresentation)
        }) { t in
            let ann = try await t.addAgent("Ann")
            // Registered before endpoints were checked: straight into the store.
            let key = Base64URL.encode(P256.KeyAgreement.PrivateKey().publicKey.x963Representation)
            _ = try await t.bridge.inbox.addPushSubscription(
                agentId: Int64(ann.id), endpoint: intranet.baseURL + "/push", p256dh: key, auth: Base64URL.encode(Data(count: 16)))
            _ = try await t.request(.PUT, "/api/v1/me/alerts", body: Data(#"{"media":{"assigned":["push"]}}"#.utf8), token: ann.token)
            _ = try await t.postLINE(Payloads.lineText("01PUSHDROP", "help"))
            let ticket = try #require(try await t.get("/api/v1/tickets").items.first?["id"] as? Int)
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/transfer", #"{"agentId":\#(ann.id)}"#)
            try await t.eventually("the refused subscription dropped") {
                try await t.get("/api/v1/me/push-subscriptions", token: ann.token).items.isEmpty
            }
            #expect(intranet.requests.isEmpty)
        }
    }

    // MARK: Helpers

    /// Allows exactly the bridge's platform stand-ins (and `more`): any other loopback port is an internal service.
    static func onlyStandIns(plus more: [PlatformStandIn] = []) -> (inout BridgeConfig) -> Void {
        let extra = more.map(\.baseURL)
        return { config in
            let platforms = config.channels.compactMap { channel -> String? in
                switch channel {
                case .line(let c): c.apiBaseURL
                case .whatsapp(let c): c.apiBaseURL
                case .messenger(let c): c.apiBaseURL
                case .sms(let c): c.apiBaseURL
                case .wechat(let c): c.apiBaseURL
                case .webchat: nil
                case .email: String?.none
                }
            }
            config.egress.allow = (platforms + config.consoles.map(\.apiBaseURL) + extra).compactMap { url in
                URL(string: url)?.port.flatMap { EgressAllowEntry("127.0.0.1:\($0)") }
            }
        }
    }

    /// A LINE customer sends an image kept by an external provider at `url`; returns its attachment once the download ended.
    static func lineImage(_ t: TestBridge, _ eventId: String, url: String) async throws -> [String: Any] {
        let ms = Int64(Date().timeIntervalSince1970 * 1000)
        let body = #"{"destination":"Ubot","events":[{"type":"message","timestamp":\#(ms),"webhookEventId":"\#(eventId)","deliveryContext":{"isRedelivery":false},"replyToken":"rt-\#(eventId)","mode":"active","source":{"type":"user","userId":"\#(Payloads.lineUser)"},"message":{"id":"m\#(eventId)","type":"image","quoteToken":"q","contentProvider":{"type":"external","originalContentUrl":"\#(url)","previewImageUrl":"\#(url)"}}}]}"#
        #expect(try await t.postLINE(body).status == 200)
        var attachment: [String: Any] = [:]
        try await t.eventually("the download of \(url) ended") {
            guard let ticket = try await t.get("/api/v1/tickets").items.first?["id"] as? Int else { return false }
            let message = try await t.messages(ticket: ticket).first { $0["platformMessageId"] as? String == "m\(eventId)" }
            attachment = (message?["attachments"] as? [[String: Any]])?.first ?? [:]
            return ["stored", "failed"].contains(attachment["status"] as? String)
        }
        return attachment
    }
}

/// A server that sends its headers at once and then one byte every `gap`: a remote holding a
/// download open (slowloris, in reverse).
final class TricklingServer: Sendable {
    let url: String
    private let task: Task<Void, any Error>

    private init(url: String, task: Task<Void, any Error>) {
        self.url = url
        self.task = task
    }

    static func start(gap: Duration, bytes: Int) async throws -> TricklingServer {
        let router = Router()
        router.get("/slow.bin") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/octet-stream"],
                body: ResponseBody(contentLength: bytes) { writer in
                    for _ in 0..<bytes {
                        try await writer.write(ByteBuffer(bytes: [0x2a]))
                        try await Task.sleep(for: gap)
                    }
                    try await writer.finish(nil)
                })
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: Logger(label: "trickle", factory: { _ in SwiftLogNoOpLogHandler() }))
        let task = Task { try await app.run() }
        var port = 0
        for await p in ports { port = p }
        return TricklingServer(url: "http://127.0.0.1:\(port)/slow.bin", task: task)
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }
}
