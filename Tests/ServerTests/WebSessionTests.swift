@testable import BridgeServer
import Foundation
import Logging
import NIOHTTP1
import Testing

/// The web inbox's sign-in: a session cookie, accepted where a bearer token is, and refused for
/// changes (and the live socket) unless the request comes from the bridge's own origin.
@Suite struct WebSessionTests {
    static let password = "correct horse battery"

    /// Signs Ann in through `POST /api/v1/auth/session`; the answer and the cookie's token.
    static func signIn(_ t: TestBridge, headers: [(String, String)] = []) async throws -> (reply: TestBridge.Reply, token: String?) {
        let reply = try await t.request(
            .POST, "/api/v1/auth/session", body: Data(#"{"email":"ann@example.com","password":"\#(password)"}"#.utf8),
            headers: [("Content-Type", "application/json")] + headers, token: nil)
        let token = reply.headers["Set-Cookie"].first?.firstMatch(of: /^bridge_session=(brg_[0-9a-f]{64});/).map { String($0.1) }
        return (reply, token)
    }

    /// A request with the session cookie (and no Authorization header).
    static func withCookie(
        _ t: TestBridge, _ method: HTTPMethod, _ path: String, _ token: String, origin: String? = nil, json: String? = nil
    ) async throws -> TestBridge.Reply {
        var headers = [("Cookie", "theme=dark; \(SessionCookie.name)=\(token)")]
        if let origin { headers.append(("Origin", origin)) }
        if json != nil { headers.append(("Content-Type", "application/json")) }
        return try await t.request(method, path, body: json.map { Data($0.utf8) }, headers: headers, token: nil)
    }

    @Test func signingInSetsTheSessionCookie() async throws {
        try await TestBridge.with(configure: { $0.server.publicBaseURL = nil }) { t in
            let ann = try await t.addAgent("Ann", password: Self.password)
            let (reply, token) = try await Self.signIn(t)
            #expect(reply.status == 201)
            let cookie = try #require(token)
            #expect(reply.headers["Set-Cookie"] == ["bridge_session=\(cookie); HttpOnly; SameSite=Strict; Path=/; Max-Age=43200"])
            #expect(reply.json["token"] == nil && !reply.text.contains(cookie))  // the page never sees it
            #expect((reply.json["agent"] as? [String: Any])?["id"] as? Int64 == ann.id)
            #expect(reply.json["expiresAt"] is String)
            // The cookie is who the page is.
            let me = try await Self.withCookie(t, .GET, "/api/v1/me", cookie)
            #expect(me.status == 200 && me.json["name"] as? String == "Ann")
            #expect(try await t.get("/api/v1/me", token: nil).status == 401)
            // Behind a TLS proxy the cookie is Secure.
            let proxied = try await Self.signIn(t, headers: [("X-Forwarded-Proto", "https")])
            #expect(proxied.reply.headers["Set-Cookie"].first?.hasSuffix("; Max-Age=43200; Secure") == true)
            // Wrong password: the login's error, and no cookie.
            let wrong = try await t.request(
                .POST, "/api/v1/auth/session", body: Data(#"{"email":"ann@example.com","password":"wrong"}"#.utf8),
                headers: [("Content-Type", "application/json")], token: nil)
            #expect(wrong.status == 401 && wrong.errorCode == "invalid_credentials")
            #expect(wrong.headers["Set-Cookie"].isEmpty)
            // Another site's page cannot sign the browser in.
            let foreign = try await Self.signIn(t, headers: [("Origin", "https://evil.example")])
            #expect(foreign.reply.status == 403 && foreign.reply.errorCode == "cross_origin" && foreign.token == nil)
            #expect(try await Self.signIn(t, headers: [("Origin", "http://127.0.0.1:\(t.bridge.port)")]).reply.status == 201)
        }
    }

    @Test func theCookieIsSecureWhenThePublicURLIsHTTPS() async throws {
        try await TestBridge.with { t in  // publicBaseURL https://bridge.example.com
            _ = try await t.addAgent("Ann", password: Self.password)
            let (reply, token) = try await Self.signIn(t)
            #expect(reply.headers["Set-Cookie"] == ["bridge_session=\(try #require(token)); HttpOnly; SameSite=Strict; Path=/; Max-Age=43200; Secure"])
        }
    }

    @Test func signInsShareTheLoginsLimits() async throws {
        try await TestBridge.with(configure: { $0.loginLimits = .init(perAccount: 2, perAddress: 1000, window: 900) }) { t in
            _ = try await t.addAgent("Ann", password: Self.password)
            for _ in 0..<2 {
                let wrong = try await t.request(
                    .POST, "/api/v1/auth/session", body: Data(#"{"email":"ann@example.com","password":"wrong"}"#.utf8), token: nil)
                #expect(wrong.status == 401)
            }
            let limited = try await t.postJSON("/api/v1/auth/login", #"{"email":"ann@example.com","password":"\#(Self.password)"}"#, token: nil)
            #expect(limited.status == 429 && limited.errorCode == "too_many_attempts")
            #expect(try await Self.signIn(t).reply.status == 429)
        }
    }

    @Test func changesByCookieNeedTheBridgesOwnOrigin() async throws {
        try await TestBridge.with { t in
            let ann = try await t.addAgent("Ann", password: Self.password)
            let cookie = try #require(try await Self.signIn(t).token)
            let path = "/api/v1/agents/\(ann.id)"
            func availability() async throws -> String? { try await t.get(path).json["availability"] as? String }
            let before = try await availability()
            for origin in [nil, "https://evil.example", "null", "http://127.0.0.1:\(t.bridge.port).evil.example", "http://127.0.0.1:1"] {
                let refused = try await Self.withCookie(t, .PATCH, path, cookie, origin: origin, json: #"{"availability":"break"}"#)
                #expect(refused.status == 403 && refused.errorCode == "cross_origin", "Origin \(origin ?? "none"): \(refused.text)")
                #expect(try await availability() == before)
            }
            // Reading needs no Origin.
            #expect(try await Self.withCookie(t, .GET, path, cookie).status == 200)
            // The bridge's own pages: the Host it was reached at, or its public URL.
            let own = try await Self.withCookie(t, .PATCH, path, cookie, origin: "http://127.0.0.1:\(t.bridge.port)", json: #"{"availability":"break"}"#)
            #expect(own.status == 200)
            #expect(try await availability() == "break")
            let publicOrigin = try await Self.withCookie(t, .PATCH, path, cookie, origin: TestBridge.publicBaseURL, json: #"{"availability":"offline"}"#)
            #expect(publicOrigin.status == 200)
            // Bearer tokens are not cookies: no Origin rule for them.
            let bearer = try await t.request(
                .PATCH, path, body: Data(#"{"availability":"online"}"#.utf8), headers: [("Content-Type", "application/json"), ("Origin", "https://evil.example")],
                token: ann.token)
            #expect(bearer.status == 200)
            // The admin token is never a session.
            #expect(try await Self.withCookie(t, .GET, "/api/v1/me", TestBridge.adminToken).status == 401)
        }
    }

    @Test func signingOutEndsTheSession() async throws {
        try await TestBridge.with { t in
            _ = try await t.addAgent("Ann", password: Self.password)
            let cookie = try #require(try await Self.signIn(t).token)
            let own = "http://127.0.0.1:\(t.bridge.port)"
            // Not from another site's page.
            let foreign = try await Self.withCookie(t, .DELETE, "/api/v1/auth/session", cookie, origin: "https://evil.example")
            #expect(foreign.status == 403 && foreign.errorCode == "cross_origin")
            #expect(try await Self.withCookie(t, .GET, "/api/v1/me", cookie).status == 200)

            let out = try await Self.withCookie(t, .DELETE, "/api/v1/auth/session", cookie, origin: own)
            #expect(out.status == 204)
            #expect(out.headers["Set-Cookie"] == ["bridge_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0; Secure"])
            let after = try await Self.withCookie(t, .GET, "/api/v1/me", cookie)
            #expect(after.status == 401 && after.errorCode == "unauthorized")
            // Signing out again (the session has ended) still clears the cookie.
            #expect(try await Self.withCookie(t, .DELETE, "/api/v1/auth/session", cookie, origin: own).status == 204)
        }
    }

    /// Asks for the `/api/v1/live` upgrade with the cookie, as a browser would (WebSocket clients
    /// send an `Origin` of their own): the answer's status, and whether `hello` came once upgraded.
    static func live(_ t: TestBridge, cookie: String, origin: String?) async throws -> (status: Int, hello: Bool) {
        try await RawConnection.with(port: t.bridge.port) { connection in
            try await connection.send(
                "GET /api/v1/live HTTP/1.1\r\nHost: 127.0.0.1:\(t.bridge.port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nCookie: \(SessionCookie.name)=\(cookie)\r\n"
                    + (origin.map { "Origin: \($0)\r\n" } ?? "") + "\r\n")
            let (status, _) = try await connection.readResponse()
            guard status == 101 else { return (status, false) }
            return (status, try await connection.read(until: #""type":"hello""#).contains("hello"))
        }
    }

    @Test func theLiveSocketTakesTheCookieFromTheBridgesOwnPagesOnly() async throws {
        try await TestBridge.with { t in
            _ = try await t.addAgent("Ann", password: Self.password)
            let cookie = try #require(try await Self.signIn(t).token)
            let own = try await Self.live(t, cookie: cookie, origin: "http://127.0.0.1:\(t.bridge.port)")
            #expect(own.status == 101 && own.hello)
            // Any other page (or none) is refused the upgrade, as a token that is not valid is.
            for origin in [nil, "https://evil.example", "ws://127.0.0.1"] {
                let refused = try await Self.live(t, cookie: cookie, origin: origin)
                #expect(refused.status == 400 && !refused.hello, "Origin \(origin ?? "none")")
            }
        }
    }
}

/// `bridge demo`'s agent: the login it prints signs in to the web inbox.
@Suite struct DemoAgentTests {
    @Test func theDemoAgentSignsInWithThePrintedLogin() async throws {
        try await TestBridge.with { t in
            try await Bridge.Demo.addAgent(to: t.bridge.inbox, cost: 4)
            try await Bridge.Demo.addAgent(to: t.bridge.inbox, cost: 4)  // a reused --data-dir keeps it
            let reply = try await t.request(
                .POST, "/api/v1/auth/session",
                body: Data(#"{"email":"\#(Bridge.Demo.agentEmail)","password":"\#(Bridge.Demo.agentPassword)"}"#.utf8), token: nil)
            #expect(reply.status == 201)
            #expect((reply.json["agent"] as? [String: Any])?["email"] as? String == "agent@demo.example")
        }
    }
}
