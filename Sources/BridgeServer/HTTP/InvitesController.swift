import Foundation
import Hummingbird
import UniversalInbox

/// One-time invitation links (`Inbox.inviteAgent`): an owner or admin above the agent makes one
/// (`POST /api/v1/agents/{id}/invite`, the token shown once, only its digest kept); the agent opens
/// `/console/#/invite/<token>` and chooses a password (`POST /api/v1/auth/invite`, public: the
/// token is the credential). The invitation is checked before bcrypt runs, so a wrong token costs
/// no password work, and used up in the transaction that sets the password.
struct InvitesController: Sendable {
    let inbox: Inbox
    let bcryptCost: Int
    let hasher: PasswordHasher

    func addPublicRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.post("auth/invite") { request, _ in
            struct Body: Decodable {
                var token: String
                var password: String
            }
            let body = try await request.decode(Body.self, maxBytes: 4096)
            let digest = AccessTokens.digest(body.token)
            guard try await inbox.invitedAgent(digest: digest) != nil else { throw InboxError.inviteInvalid }
            let passwordHash: String
            do {
                passwordHash = try await hasher.hash(body.password, cost: bcryptCost)
            } catch let error as PasswordError {
                throw error.tooLong ? APIError.unprocessable("invalid_password", error.message) : APIError.badRequest("invalid_password", error.message)
            } catch is PasswordHasherBusy {
                throw APIError.passwordsBusy
            }
            _ = try await inbox.acceptInvite(digest: digest, passwordHash: passwordHash)
            return Response(status: .noContent)
        }
    }

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.post("agents/:id/invite") { _, context in
            struct Created: Encodable {
                var agentId: Int64
                var token: String
                var path: String
                var expiresAt: Date
            }
            let (id, actor) = (try context.id(), try context.requireCaller())
            guard let agent = try await inbox.agent(id: id) else { throw APIError.notFound("agent \(id) does not exist") }
            try AgentPolicy.check(actor, .setPassword, on: agent)
            let token = AccessTokens.generate()
            let expires = try await inbox.inviteAgent(agentId: agent.id, digest: AccessTokens.digest(token))
            return JSONResponse.make(Created(agentId: agent.id, token: token, path: "/console/#/invite/\(token)", expiresAt: expires), status: .created)
        }
    }
}
