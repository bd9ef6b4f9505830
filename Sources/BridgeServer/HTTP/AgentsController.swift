import Foundation
import Hummingbird
import UniversalInbox

/// Agents, departments and agents' tokens. Who may manage whom is `AgentPolicy`'s one rule, asked
/// by every route here that changes or reveals an agent's access (`target`): an actor manages only
/// agents below its own role, itself for its own state, password and tokens, and grants no role
/// above its own.
struct AgentsController: Sendable {
    let inbox: Inbox
    let bcryptCost: Int
    let hasher: PasswordHasher
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
        group.get("agents/:id/tokens") { _, context in
            let (_, agent) = try await target(context, .manageTokens)
            return JSONResponse.make(ItemsDTO(items: try await inbox.tokens(agentId: agent.id)))
        }
        group.delete("agents/:id/tokens") { _, context in
            let (_, agent) = try await target(context, .manageTokens)
            try await inbox.revokeTokens(agentId: agent.id)
            return Response(status: .noContent)
        }
        group.delete("agents/:id/tokens/:tokenId") { _, context in
            let (_, agent) = try await target(context, .manageTokens)
            try await inbox.revokeToken(id: try context.id("tokenId"), agentId: agent.id)
            return Response(status: .noContent)
        }
        group.post("agents/:id/deactivate") { _, context in
            let (actor, agent) = try await target(context, .deactivate)
            return JSONResponse.make(try await inbox.deactivateAgent(id: agent.id, by: actor))
        }
        group.post("agents/:id/reactivate") { _, context in
            let (_, agent) = try await target(context, .deactivate)
            return JSONResponse.make(try await inbox.reactivateAgent(id: agent.id))
        }
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
        try AgentPolicy.checkGrant(actor, role)
        let passwordHash = try await body.password.asyncMap(hash)
        let agent = try await inbox.createAgent(
            NewAgent(
                email: body.email, name: body.name, role: role, passwordHash: passwordHash, maxTickets: body.maxTickets ?? 5,
                departments: body.departments ?? []))
        return JSONResponse.make(agent, status: .created)
    }

    /// `PATCH /api/v1/agents/{id}`. A new password ends the agent's other tokens: all of them when
    /// someone else resets it, all but the one in use when the agent changes its own.
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
        var actions: [AgentAction] = [.changeState]
        if changes.touchesSettings { actions.append(.changeSettings) }
        if let role = changes.role { actions.append(.setRole(role)) }
        if body.password != nil { actions.append(.setPassword) }
        let (actor, agent) = try await target(context, actions)
        changes.passwordHash = try await body.password.asyncMap(hash)
        let keeping = actor.agentId == agent.id ? context.tokenDigest : nil
        return JSONResponse.make(try await inbox.updateAgent(id: agent.id, changes, keepingToken: keeping))
    }

    /// `POST /api/v1/agents/{id}/tokens {"label"}`: a new API token, shown once.
    func token(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        struct Body: Decodable { var label: String? = nil }
        struct Created: Encodable {
            var id: Int64
            var token: String
            var agentId: Int64
            var label: String?
        }
        let (_, agent) = try await target(context, .manageTokens)
        let body = try await request.decode(Body.self, whenEmpty: Body())
        let token = AccessTokens.generate()
        let id = try await inbox.storeToken(digest: AccessTokens.digest(token), agentId: agent.id, kind: "api", label: body.label, expiresAt: nil)
        return JSONResponse.make(Created(id: id, token: token, agentId: agent.id, label: body.label), status: .created)
    }

    /// The agent named by the path, once `AgentPolicy` allows the caller every one of `actions` on it.
    private func target(_ context: BridgeRequestContext, _ actions: AgentAction...) async throws -> (Caller, Agent) {
        try await target(context, actions)
    }

    private func target(_ context: BridgeRequestContext, _ actions: [AgentAction]) async throws -> (Caller, Agent) {
        let (id, actor) = (try context.id(), try context.requireCaller())
        guard let agent = try await inbox.agent(id: id) else { throw APIError.notFound("agent \(id) does not exist") }
        for action in actions { try AgentPolicy.check(actor, action, on: agent) }
        return (actor, agent)
    }

    private func agentId(_ context: BridgeRequestContext) throws -> Int64 {
        guard let id = try context.requireCaller().agentId else {
            throw APIError.notAnAgent("alerts belong to agents; use an agent's token")
        }
        return id
    }

    private func hash(_ password: String) async throws -> String {
        do {
            return try await hasher.hash(password, cost: bcryptCost)
        } catch let error as PasswordError {
            // Under 8 characters breaks the document's minLength (400); over bcrypt's 72 bytes is a rule in words (422).
            throw error.tooLong ? APIError.unprocessable("invalid_password", error.message) : APIError.badRequest("invalid_password", error.message)
        } catch is PasswordHasherBusy {
            throw APIError.passwordsBusy
        }
    }
}

extension Optional where Wrapped: Sendable {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async throws -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
