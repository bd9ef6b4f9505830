import Foundation
import Testing
import UniversalInbox

/// Invitation links as every `AgentStore` must keep them: found by digest until they expire, one
/// per agent (a new one replaces the old), used once (the password set and every token ended in
/// the same transaction), void once the agent's role or password changes, never for a deactivated
/// agent (nor after it is reactivated).
@Suite struct AgentInviteContractTests {
    static func at(_ ms: Int64) -> Date { Date(ms: ms) }

    @Test(arguments: StoreKind.available)
    func anInvitationWorksOnceUntilItExpires(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            let agents = stores.agentStore
            _ = try await agents.create(NewAgent(email: "owner@example.com", name: "Owner", role: .owner), at: Self.at(1))
            let ann = try await agents.create(NewAgent(email: "ann@example.com", name: "Ann", role: .agent), at: Self.at(1))
            _ = try await agents.addToken(digest: "session-a", agentId: ann, kind: "session", label: nil, expiresAt: nil, at: Self.at(2))

            try await agents.addInvite(digest: "first", agentId: ann, expiresAt: Self.at(1000), at: Self.at(10))
            #expect(try await agents.inviteAgent(digest: "first", at: Self.at(20)) == ann)
            #expect(try await agents.inviteAgent(digest: "first", at: Self.at(1000)) == nil)  // expired
            // A new link replaces the old one.
            try await agents.addInvite(digest: "second", agentId: ann, expiresAt: Self.at(1000), at: Self.at(30))
            #expect(try await agents.inviteAgent(digest: "first", at: Self.at(40)) == nil)
            #expect(try await agents.useInvite(digest: "first", passwordHash: "wrong", at: Self.at(40)) == nil)
            #expect(try await agents.agent(id: ann)?.hasPassword == false)
            // Expired: nothing changes.
            #expect(try await agents.useInvite(digest: "second", passwordHash: "late", at: Self.at(1000)) == nil)
            #expect(try await agents.agent(id: ann)?.hasPassword == false)

            #expect(try await agents.useInvite(digest: "second", passwordHash: "hash-ann", at: Self.at(50)) == ann)
            #expect(try await agents.credentials(email: "ann@example.com")?.passwordHash == "hash-ann")
            #expect(try await agents.agent(tokenDigest: "session-a", at: Self.at(60)) == nil)
            // Once only.
            #expect(try await agents.useInvite(digest: "second", passwordHash: "again", at: Self.at(60)) == nil)
            #expect(try await agents.credentials(email: "ann@example.com")?.passwordHash == "hash-ann")

            // A link is for the agent as they were: a new role or password voids it.
            try await agents.addInvite(digest: "promoted", agentId: ann, expiresAt: Self.at(1000), at: Self.at(61))
            var promote = AgentChanges()
            promote.role = .admin
            try await agents.update(id: ann, promote, keepingToken: nil, at: Self.at(62))
            #expect(try await agents.useInvite(digest: "promoted", passwordHash: "x", at: Self.at(63)) == nil)
            var demote = AgentChanges()
            demote.role = .agent
            try await agents.update(id: ann, demote, keepingToken: nil, at: Self.at(64))
            try await agents.addInvite(digest: "reset", agentId: ann, expiresAt: Self.at(1000), at: Self.at(65))
            var reset = AgentChanges()
            reset.passwordHash = "hash-by-an-admin"
            try await agents.update(id: ann, reset, keepingToken: nil, at: Self.at(66))
            #expect(try await agents.inviteAgent(digest: "reset", at: Self.at(67)) == nil)

            // Never for a deactivated agent, nor after they come back; no agent at all is notFound.
            try await agents.addInvite(digest: "third", agentId: ann, expiresAt: Self.at(1000), at: Self.at(70))
            _ = try await agents.deactivate(id: ann, by: "test", at: Self.at(80))
            #expect(try await agents.inviteAgent(digest: "third", at: Self.at(90)) == nil)
            #expect(try await agents.useInvite(digest: "third", passwordHash: "x", at: Self.at(90)) == nil)
            try await agents.reactivate(id: ann, at: Self.at(91))
            #expect(try await agents.inviteAgent(digest: "third", at: Self.at(92)) == nil)
            _ = try await agents.deactivate(id: ann, by: "test", at: Self.at(93))
            await #expect(throws: InboxError.agentDeactivated(ann)) {
                try await agents.addInvite(digest: "fourth", agentId: ann, expiresAt: Self.at(1000), at: Self.at(90))
            }
            await #expect(throws: InboxError.agentNotFound(999)) {
                try await agents.addInvite(digest: "fifth", agentId: 999, expiresAt: Self.at(1000), at: Self.at(90))
            }
        }
    }
}
