import Foundation
import HTTPTypes
import Hummingbird
import UniversalInbox

/// Logging in and out with an e-mail and password; who the token belongs to. Logins are limited
/// per account and per client address (`LoginThrottle`), and bcrypt runs on the password threads
/// (`PasswordHasher`), never on the pool every other request shares. The web page signs in the
/// same way, but keeps its token in a cookie (`SessionCookie`) instead of being shown it.
struct AuthController: Sendable {
    let inbox: Inbox
    let sessionLifetime: TimeInterval
    /// A hash to verify against when the e-mail is unknown, so both failures take the same time.
    let decoyHash: String
    let throttle: LoginThrottle
    let hasher: PasswordHasher
    /// `server.publicBaseURL`: its origin is the page's own, and https there makes the cookie `Secure`.
    let publicBaseURL: String?

    /// Signing in (`POST /api/v1/auth/login`, `POST /api/v1/auth/session`) is public: it is how an
    /// agent gets a token or a session cookie. So is signing out of the page (`DELETE .../session`).
    func addPublicRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.post("auth/login") { request, context in
            struct Session: Encodable {
                var token: String
                var expiresAt: Date
                var agent: Agent
            }
            let session = try await signIn(request, context)
            return JSONResponse.make(Session(token: session.token, expiresAt: session.expiresAt, agent: session.agent), status: .created)
        }
        group.post("auth/session") { request, context in
            struct Session: Encodable {
                var expiresAt: Date
                var agent: Agent
            }
            // A sign-in posted by another site's page would sign the browser into someone else's
            // account: a browser's `Origin` must be ours (clients without one are not browsers).
            if let origin = request.headers[.origin], !SameOrigin.allows(origin: origin, authority: request.head.authority, publicBaseURL: publicBaseURL) {
                throw APIError.crossOrigin
            }
            let session = try await signIn(request, context)
            var response = JSONResponse.make(Session(expiresAt: session.expiresAt, agent: session.agent), status: .created)
            response.headers[.setCookie] = SessionCookie.set(
                session.token, lifetime: sessionLifetime,
                secure: SessionCookie.secure(request.headers, publicBaseURL: publicBaseURL))
            response.headers[.cacheControl] = "no-store"
            return response
        }
        // Signing out of the page: the cookie's token stops working and the browser drops the cookie.
        // Public, so that a page whose session already ended can still clear its cookie.
        group.delete("auth/session") { request, _ in
            if let token = SessionCookie.token(in: request.headers) {
                guard SameOrigin.allows(origin: request.headers[.origin], authority: request.head.authority, publicBaseURL: publicBaseURL) else {
                    throw APIError.crossOrigin
                }
                try await inbox.revokeToken(digest: AccessTokens.digest(token))
            }
            return Response(
                status: .noContent, headers: [.setCookie: SessionCookie.clear(secure: SessionCookie.secure(request.headers, publicBaseURL: publicBaseURL))])
        }
    }

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.post("auth/logout") { _, context in
            if let digest = context.tokenDigest { try await inbox.revokeToken(digest: digest) }
            return Response(status: .noContent)
        }
        group.get("me") { _, context in
            let actor = try context.requireCaller()
            guard let id = actor.agentId, let agent = try await inbox.agent(id: id) else {
                return JSONResponse.make(["name": actor.name, "role": actor.role.rawValue])
            }
            return JSONResponse.make(agent)
        }
    }

    /// Checks the e-mail and password (throttled, bcrypt on the password threads, the decoy hash for
    /// unknown e-mails) and stores a new login token.
    private func signIn(_ request: Request, _ context: BridgeRequestContext) async throws -> (token: String, expiresAt: Date, agent: Agent) {
        struct Body: Decodable {
            var email: String
            var password: String
        }
        let body = try await request.decode(Body.self, maxBytes: 4096)
        let address = clientAddress(request, context)
        do {
            try await throttle.begin(account: body.email, address: address)
        } catch let error as LoginThrottle.Limited {
            throw APIError(
                status: .tooManyRequests, code: "too_many_attempts",
                message: "too many failed logins for this \(error.scope); try again in \(error.retryAfter) s",
                headers: [.retryAfter: String(error.retryAfter)])
        }
        let found = try await inbox.credentials(email: body.email)
        let matches: Bool
        do {
            matches = try await hasher.verify(body.password, hash: found?.passwordHash ?? decoyHash)
        } catch is PasswordHasherBusy {
            await throttle.abandoned(account: body.email, address: address)
            throw APIError.passwordsBusy
        }
        guard matches, let found, found.agent.active else {
            throw APIError(status: .unauthorized, code: "invalid_credentials", message: "the e-mail or password is wrong")
        }
        await throttle.succeeded(account: body.email, address: address)
        let token = AccessTokens.generate()
        let expiresAt = Date().addingTimeInterval(sessionLifetime)
        try await inbox.storeToken(digest: AccessTokens.digest(token), agentId: found.agent.id, kind: "session", label: nil, expiresAt: expiresAt)
        return (token, expiresAt, found.agent)
    }

    /// The client's address as the limits key it (`WidgetThrottle.addressKey`: IPv6 by /64): the
    /// last entry of the configured proxy header, else the peer's IP.
    private func clientAddress(_ request: Request, _ context: BridgeRequestContext) -> String? {
        if let name = throttle.limits.addressHeader, let field = HTTPField.Name(name), let value = request.headers[field],
            let last = value.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty
        {
            return WidgetThrottle.addressKey(last)
        }
        return context.remoteAddress?.ipAddress.map(WidgetThrottle.addressKey)
    }
}

extension APIError {
    /// A request authenticated by the session cookie (or a sign-in) from a page that is not the bridge's.
    static let crossOrigin = APIError(
        status: .forbidden, code: "cross_origin", message: "a request with the session cookie must come from the bridge's own pages (Origin)")
    /// Every password thread is busy and the queue is full.
    static let passwordsBusy = APIError(
        status: .serviceUnavailable, code: "busy", message: "too many logins or password changes at once; try again shortly",
        headers: [.retryAfter: "1"])
}
