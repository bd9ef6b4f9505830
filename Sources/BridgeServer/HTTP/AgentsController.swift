import Foundation
import Hummingbird
import UniversalInbox

/// Agents, departments and agents' API tokens. Owners and admins manage them; an agent may change
/// its own availability, distribution pause, name and password, and make its own tokens.
struct AgentsController: Sendable {
    let inbox: Inbox
    let bcryptCost: Int
    /// The VAPID key browsers subscribe to push alerts with, when Web Push is configured.
    let vapidPublicKey: String?
    /// Push endpoints off the push services' hosts are refused unless `egress.allow` lists them.
    let egress: EgressPolicy
    /// The phone push services configured (FCM, APNs).
    var pushPlatforms: Set<PushPlatform> = []

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.get("agents") { _, _ in JSONResponse.make(ItemsDTO(items: try await inbox.agents())) }
        group.post("agents") { request, context in try await create(request, context) }
        group.get("agents/:id") { _, context in
            let id = try context.id()
            guard let agent = try await inbox.agent(id: id) else { throw APIError.notFound("agent \(id) does not exist") }
            return JSONResponse.make(agent)
        }
        group.patch("agents/:id") { request, context in try await change(request, context) }
        group.post("agents/:id/tokens") { request, context in try await token(request, context) }
        group.get("me/alerts") { _, context in
            JSONResponse.make(try await inbox.alertSettings(agentId: try agentId(context)))
        }
        group.put("me/alerts") { request, context in
            let settings = try await request.decode(AlertSettings.self)
            return JSONResponse.make(try await inbox.setAlertSettings(settings, agentId: try agentId(context)))
        }
        group.get("me/push-subscriptions") { _, context in
            JSONResponse.make(ItemsDTO(items: try await inbox.pushSubscriptions(agentId: try agentId(context))))
        }
        group.post("me/push-subscriptions") { request, context in
            struct Body: Decodable {
                struct Keys: Decodable {
                    var p256dh: String
                    var auth: String
                }
                var endpoint: String
                var keys: Keys
            }
            guard vapidPublicKey != nil else {
                throw APIError(status: .notFound, code: "push_not_configured", message: "Web Push is not configured (notifier.vapidPrivateKey)")
            }
            let body = try await request.decode(Body.self)
            try WebPushSubscriptionRule.check(endpoint: body.endpoint, p256dh: body.keys.p256dh, auth: body.keys.auth, egress: egress)
            let subscription = try await inbox.addPushSubscription(agentId: try agentId(context), endpoint: body.endpoint, p256dh: body.keys.p256dh, auth: body.keys.auth)
            return JSONResponse.make(subscription, status: .created)
        }
        group.delete("me/push-subscriptions/:id") { _, context in
            try await inbox.removePushSubscription(id: try context.id(), agentId: try agentId(context))
            return Response(status: .noContent)
        }
        group.get("me/push-devices") { _, context in
            JSONResponse.make(ItemsDTO(items: try await inbox.pushDevices(agentId: try agentId(context))))
        }
        group.post("me/push-devices") { request, context in
            struct Body: Decodable {
                var platform: String
                var token: String
            }
            let body = try await request.decode(Body.self)
            let platform = try parseEnum(body.platform, as: PushPlatform.self, field: "platform")
            guard pushPlatforms.contains(platform) else {
                throw APIError(status: .notFound, code: "push_not_configured", message: "\(platform.rawValue) is not configured (notifier.\(platform.rawValue))")
            }
            return JSONResponse.make(try await inbox.addPushDevice(agentId: try agentId(context), platform: platform, token: body.token), status: .created)
        }
        group.delete("me/push-devices/:id") { _, context in
            try await inbox.removePushDevice(id: try context.id(), agentId: try agentId(context))
            return Response(status: .noContent)
        }
        group.get("push/vapid-public-key") { _, _ in
            guard let vapidPublicKey else { throw APIError(status: .notFound, code: "push_not_configured", message: "Web Push is not configured (notifier.vapidPrivateKey)") }
            return JSONResponse.make(["publicKey": vapidPublicKey])
        }
        group.get("departments") { _, _ in JSONResponse.make(ItemsDTO(items: try await inbox.departments())) }
        group.post("departments") { request, context in
            struct Body: Decodable { var name: String }
            _ = try context.requireSettingsManager()
            let body = try await request.decode(Body.self)
            return JSONResponse.make(try await inbox.createDepartment(name: body.name), status: .created)
        }
    }

    func create(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        struct Body: Decodable {
            var email: String
            var name: String
            var role: String?
            var password: String?
            var maxTickets: Int?
            var departments: [Int64]?
        }
        let actor = try context.requireSettingsManager()
        let body = try await request.decode(Body.self)
        let role = try body.role.map { try parseEnum($0, as: AgentRole.self, field: "role") } ?? .agent
        if role == .owner, actor.role != .owner { throw APIError(status: .forbidden, code: "owners_only", message: "only an owner may add an owner") }
        let agent = try await inbox.createAgent(
            NewAgent(
                email: body.email, name: body.name, role: role, passwordHash: try body.password.map(hash), maxTickets: body.maxTickets ?? 5,
                departments: body.departments ?? []))
        return JSONResponse.make(agent, status: .created)
    }

    func change(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        struct Body: Decodable {
            var name: String?
            var role: String?
            var availability: String?
            var maxTickets: Int?
            var distributionPaused: Bool?
            var departmentsOnly: Bool?
            var answerAssignedOnly: Bool?
            var departments: [Int64]?
            var password: String?
        }
        let (id, actor) = (try context.id(), try context.requireActor())
        let body = try await request.decode(Body.self)
        var changes = AgentChanges()
        changes.name = body.name
        changes.role = try body.role.map { try parseEnum($0, as: AgentRole.self, field: "role") }
        changes.availability = try body.availability.map { try parseEnum($0, as: Availability.self, field: "availability") }
        changes.maxTickets = body.maxTickets
        changes.distributionPaused = body.distributionPaused
        changes.departmentsOnly = body.departmentsOnly
        changes.answerAssignedOnly = body.answerAssignedOnly
        changes.departments = body.departments
        changes.passwordHash = try body.password.map(hash)
        if actor.agentId != id || changes.touchesSettings { _ = try context.requireSettingsManager() }
        if changes.role == .owner, actor.role != .owner { throw APIError(status: .forbidden, code: "owners_only", message: "only an owner may make an owner") }
        if let target = try await inbox.agent(id: id), target.role == .owner, actor.role != .owner, actor.agentId != id {
            throw APIError(status: .forbidden, code: "owners_only", message: "only an owner may change an owner")
        }
        return JSONResponse.make(try await inbox.updateAgent(id: id, changes))
    }

    /// `POST /api/v1/agents/{id}/tokens {"label"}`: a new API token, shown once.
    func token(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        struct Body: Decodable { var label: String? }
        struct Created: Encodable {
            var token: String
            var agentId: Int64
            var label: String?
        }
        let (id, actor) = (try context.id(), try context.requireActor())
        if actor.agentId != id { _ = try context.requireSettingsManager() }
        let body = try await request.decode(Body.self)
        let token = AccessTokens.generate()
        try await inbox.storeToken(digest: AccessTokens.digest(token), agentId: id, kind: "api", label: body.label, expiresAt: nil)
        return JSONResponse.make(Created(token: token, agentId: id, label: body.label), status: .created)
    }

    private func agentId(_ context: BridgeRequestContext) throws -> Int64 {
        guard let id = try context.requireActor().agentId else {
            throw APIError.badRequest("not_an_agent", "alerts belong to agents; use an agent's token")
        }
        return id
    }

    private func hash(_ password: String) throws -> String {
        do {
            return try Passwords.hash(password, cost: bcryptCost)
        } catch let error as PasswordError {
            throw APIError.badRequest("invalid_password", error.message)
        }
    }
}

/// Logging in and out with an e-mail and password; who the token belongs to.
struct AuthController: Sendable {
    let inbox: Inbox
    let sessionLifetime: TimeInterval
    /// A hash to verify against when the e-mail is unknown, so both failures take the same time.
    let decoyHash: String

    /// `POST /api/v1/auth/login` is public (it is how an agent gets a token).
    func addPublicRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.post("auth/login") { request, _ in try await login(request) }
    }

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.post("auth/logout") { request, _ in
            if let header = request.headers[.authorization], header.hasPrefix("Bearer brg_") {
                try await inbox.revokeToken(digest: AccessTokens.digest(String(header.dropFirst(7))))
            }
            return Response(status: .noContent)
        }
        group.get("me") { _, context in
            let actor = try context.requireActor()
            guard let id = actor.agentId, let agent = try await inbox.agent(id: id) else {
                return JSONResponse.make(["name": actor.name, "role": actor.role.rawValue])
            }
            return JSONResponse.make(agent)
        }
    }

    func login(_ request: Request) async throws -> Response {
        struct Body: Decodable {
            var email: String
            var password: String
        }
        struct Session: Encodable {
            var token: String
            var expiresAt: Date
            var agent: Agent
        }
        let body = try await request.decode(Body.self, maxBytes: 4096)
        let found = try await inbox.credentials(email: body.email)
        guard Passwords.verify(body.password, hash: found?.passwordHash ?? decoyHash), let found else {
            throw APIError(status: .unauthorized, code: "invalid_credentials", message: "the e-mail or password is wrong")
        }
        let token = AccessTokens.generate()
        let expiresAt = Date().addingTimeInterval(sessionLifetime)
        try await inbox.storeToken(digest: AccessTokens.digest(token), agentId: found.agent.id, kind: "session", label: nil, expiresAt: expiresAt)
        return JSONResponse.make(Session(token: token, expiresAt: expiresAt, agent: found.agent), status: .created)
    }
}
