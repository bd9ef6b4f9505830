@testable import BridgeServer
import Foundation
import TestSupport
import Testing

/// One-time invitation links through the API: made by someone above the agent, used once to set a
/// password (which then signs in), refused afterwards, and never made by an agent.
@Suite struct AgentInviteTests {
    @Test func anInvitationSetsThePasswordOnce() async throws {
        try await TestBridge.with(standIns: []) { t in
            let created = try await t.postJSON("/api/v1/agents", #"{"email":"nia@example.com","name":"Nia"}"#)
            let nia = try #require(created.json["id"] as? Int)
            #expect(created.json["hasPassword"] as? Bool == false)
            let other = try await t.addAgent("Otto")
            #expect(try await t.postJSON("/api/v1/agents/\(nia)/invite", "{}", token: other.token).status == 403)

            let invite = try await t.postJSON("/api/v1/agents/\(nia)/invite", "{}")
            #expect(invite.status == 201)
            let token = try #require(invite.json["token"] as? String)
            #expect(invite.json["path"] as? String == "/console/#/invite/\(token)")
            #expect(invite.json["expiresAt"] as? String != nil)

            let short = try await t.postJSON("/api/v1/auth/invite", #"{"token":"\#(token)","password":"short"}"#, token: nil)
            #expect(short.errorCode == "invalid_password")
            let accepted = try await t.postJSON("/api/v1/auth/invite", #"{"token":"\#(token)","password":"nia-password-1"}"#, token: nil)
            #expect(accepted.status == 204)
            let login = try await t.postJSON("/api/v1/auth/login", #"{"email":"nia@example.com","password":"nia-password-1"}"#, token: nil)
            #expect(login.status == 201)

            let again = try await t.postJSON("/api/v1/auth/invite", #"{"token":"\#(token)","password":"someone-else-2"}"#, token: nil)
            #expect(again.status == 409)
            #expect(again.errorCode == "invite_invalid")
            #expect(try await t.postJSON("/api/v1/auth/login", #"{"email":"nia@example.com","password":"someone-else-2"}"#, token: nil).status == 401)
            #expect(try await t.postJSON("/api/v1/auth/invite", #"{"token":"brg_nothing","password":"whatever-123"}"#, token: nil).errorCode == "invite_invalid")
        }
    }
}
