@testable import BridgeServer
import Foundation
import GRDB
import Logging
import Synchronization
import Testing
import UniversalInbox

/// Ending an agent's access: a password change ends the other sessions, tokens are listed and
/// revoked, an agent is deactivated and reactivated, and open live sockets close at once.
@Suite struct AgentAccessTests {
    func login(_ t: TestBridge, _ email: String, _ password: String) async throws -> TestBridge.Reply {
        try await t.postJSON("/api/v1/auth/login", #"{"email":"\#(email)","password":"\#(password)"}"#, token: nil)
    }

    func session(_ t: TestBridge, _ email: String, _ password: String) async throws -> String {
        let reply = try await login(t, email, password)
        return try #require(reply.json["token"] as? String, "login: \(reply.text)")
    }

    /// Sam, of Sales (not restricted to it yet), and a ticket moved to Billing.
    func samAndABillingTicket(_ t: TestBridge) async throws -> (sam: TestBridge.AgentLogin, sales: Int64, ticket: Int64) {
        let sales = try await t.addDepartment("Sales")
        let billing = try await t.addDepartment("Billing")
        let sam = try await t.addAgent("Sam", departments: [sales])
        let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
        _ = try await t.postJSON("/api/v1/tickets/\(ticket)/transfer", #"{"departmentId":\#(billing)}"#)
        return (sam, sales, ticket)
    }

    /// A hub of the test's own on the bridge's inbox (not started: the test calls `revalidate`),
    /// with `agent` connected.
    func hubConnecting(_ t: TestBridge, _ agent: TestBridge.AgentLogin, store: any PresenceStore) async throws -> (LiveHub, UUID, AsyncStream<String>) {
        let hub = LiveHub(inbox: t.bridge.inbox, logger: Logger(label: "test"), presenceStore: store)
        let digest = AccessTokens.digest(agent.token)
        let (id, stream) = await hub.connect(try #require(try await t.bridge.inbox.actor(tokenDigest: digest)), tokenDigest: digest)
        return (hub, id, stream)
    }

    @Test func changingOnesOwnPasswordEndsTheOtherSessionsButNotThisOne() async throws {
        try await TestBridge.with { t in
            let ann = try await t.addAgent("Ann", password: "first password")
            let laptop = try await session(t, "ann@example.com", "first password")
            let phone = try await session(t, "ann@example.com", "first password")  // say, the one a thief has
            let changed = try await t.patchJSON("/api/v1/agents/\(ann.id)", #"{"password":"second password"}"#, token: laptop)
            #expect(changed.status == 200)
            #expect(try await t.get("/api/v1/me", token: laptop).status == 200)  // the session it was changed from
            #expect(try await t.get("/api/v1/me", token: phone).status == 401)
            #expect(try await t.get("/api/v1/me", token: ann.token).status == 401)  // API tokens too
            #expect(try await login(t, "ann@example.com", "first password").status == 401)
            #expect(try await login(t, "ann@example.com", "second password").status == 201)
        }
    }

    @Test func aResetByAnAdminEndsEverySession() async throws {
        try await TestBridge.with { t in
            let admin = try await t.addAgent("Ada", role: "admin")
            let ann = try await t.addAgent("Ann", password: "first password")
            let laptop = try await session(t, "ann@example.com", "first password")
            #expect(try await t.patchJSON("/api/v1/agents/\(ann.id)", #"{"password":"reset password"}"#, token: admin.token).status == 200)
            #expect(try await t.get("/api/v1/me", token: laptop).status == 401)
            #expect(try await t.get("/api/v1/me", token: ann.token).status == 401)
            #expect(try await t.get("/api/v1/me", token: admin.token).status == 200)  // the admin's own session stays
            #expect(try await t.get("/api/v1/agents/\(ann.id)/tokens").items.isEmpty)
        }
    }

    @Test func tokensAreListedWithoutSecretsAndRevokedOneOrAll() async throws {
        try await TestBridge.with { t in
            let ann = try await t.addAgent("Ann", password: "first password")
            let bob = try await t.addAgent("Bob")
            let laptop = try await session(t, "ann@example.com", "first password")
            let ci = try await t.postJSON("/api/v1/agents/\(ann.id)/tokens", #"{"label":"ci"}"#, token: ann.token)
            let ciToken = try #require(ci.json["token"] as? String)
            let ciId = try #require(ci.json["id"] as? Int)

            let listed = try await t.get("/api/v1/agents/\(ann.id)/tokens", token: laptop)
            #expect(listed.items.map { $0["kind"] as? String } == ["api", "session", "api"])
            #expect(listed.items.compactMap { $0["label"] as? String } == ["test", "ci"])
            #expect(!listed.text.contains(ciToken) && !listed.text.contains(AccessTokens.digest(ciToken)))
            #expect(!listed.text.contains(laptop))

            // One token: someone else's id is not found, and changes nothing.
            #expect(try await t.request(.DELETE, "/api/v1/agents/\(bob.id)/tokens/\(ciId)").status == 404)
            #expect(try await t.get("/api/v1/me", token: ciToken).status == 200)
            #expect(try await t.request(.DELETE, "/api/v1/agents/\(ann.id)/tokens/\(ciId)", token: laptop).status == 204)
            #expect(try await t.get("/api/v1/me", token: ciToken).status == 401)
            #expect(try await t.get("/api/v1/me", token: laptop).status == 200)

            // All of them.
            #expect(try await t.request(.DELETE, "/api/v1/agents/\(ann.id)/tokens").status == 204)
            #expect(try await t.get("/api/v1/me", token: laptop).status == 401)
            #expect(try await t.get("/api/v1/me", token: ann.token).status == 401)
            #expect(try await t.get("/api/v1/agents/\(ann.id)/tokens").items.isEmpty)
            #expect(try await t.get("/api/v1/me", token: bob.token).status == 200)
        }
    }

    @Test func aDeactivatedAgentKeepsItsHistoryButLosesAccessAndItsOpenTickets() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let sales = try await t.addDepartment("Sales")
            let ann = try await t.addAgent("Ann", departments: [sales], password: "first password")
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/transfer", #"{"departmentId":\#(sales)}"#)
            #expect(try await t.postJSON("/api/v1/tickets/\(ticket)/claim", "{}", token: ann.token).status == 200)
            #expect(try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"text":"On it"}"#, token: ann.token).status == 202)

            let deactivated = try await t.postJSON("/api/v1/agents/\(ann.id)/deactivate", "{}")
            #expect(deactivated.status == 200)
            #expect(deactivated.json["active"] as? Bool == false)
            #expect(deactivated.json["availability"] as? String == "offline")
            // No tokens, no logins, no new tokens.
            #expect(try await t.get("/api/v1/me", token: ann.token).status == 401)
            #expect(try await login(t, "ann@example.com", "first password").status == 401)
            #expect(try await t.postJSON("/api/v1/agents/\(ann.id)/tokens", "{}").errorCode == "agent_deactivated")
            // Still listed, and the history still names it.
            #expect(try await t.get("/api/v1/agents").items.first?["active"] as? Bool == false)
            #expect(try await t.messages(ticket: ticket).contains { $0["author"] as? String == "agent:\(ann.id)" })
            // Its open ticket went back to the department's queue, with a history entry.
            let summary = try await t.get("/api/v1/tickets/\(ticket)")
            #expect(summary.json["agentId"] == nil)
            #expect(try await t.get("/api/v1/queue").items.compactMap { $0["ticketId"] as? Int64 } == [ticket])
            let history = try await t.get("/api/v1/tickets/\(ticket)/history").items
            #expect(history.contains { $0["kind"] as? String == "transferred" && ($0["detail"] as? [String: Any])?["note"] as? String == "agent deactivated" })
            // Out of distribution even if someone sets it online, and nobody can transfer to it.
            #expect(try await t.patchJSON("/api/v1/agents/\(ann.id)", #"{"availability":"online"}"#).status == 200)
            _ = try await t.bridge.inbox.distributeQueued()  // a full pass, besides the distributor's own
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["agentId"] == nil)
            #expect(try await t.postJSON("/api/v1/tickets/\(ticket)/transfer", #"{"agentId":\#(ann.id)}"#).errorCode == "agent_deactivated")

            // Reactivated, it logs in again and takes tickets again.
            let back = try await t.postJSON("/api/v1/agents/\(ann.id)/reactivate", "{}")
            #expect(back.json["active"] as? Bool == true)
            #expect(back.json["availability"] as? String == "offline")
            let annSession = try await session(t, "ann@example.com", "first password")
            #expect(try await t.get("/api/v1/me", token: annSession).json["active"] as? Bool == true)
            _ = try await t.patchJSON("/api/v1/agents/\(ann.id)", #"{"availability":"online"}"#, token: annSession)
            try await t.eventually("the queued ticket to go to Ann") {
                try await t.get("/api/v1/tickets/\(ticket)").json["agentId"] as? Int64 == ann.id
            }
        }
    }

    @Test func theLastOwnerCannotBeDeactivatedNorAnyoneThemselves() async throws {
        try await TestBridge.with { t in
            let owner = try await t.addAgent("Olga", role: "owner")
            let admin = try await t.addAgent("Ada", role: "admin")
            #expect(try await t.postJSON("/api/v1/agents/\(owner.id)/deactivate", "{}").errorCode == "last_owner")
            #expect(try await t.postJSON("/api/v1/agents/\(admin.id)/deactivate", "{}", token: admin.token).errorCode == "cannot_deactivate_self")
            #expect(try await t.get("/api/v1/agents").items.allSatisfy { $0["active"] as? Bool == true })
        }
    }

    /// Revoking a token, deactivating an agent or resetting its password closes its open live
    /// sockets at once (the hub re-checks on the inbox's event, no timer); others stay open.
    @Test(arguments: ["revoke one", "revoke all", "deactivate", "reset password", "log out"])
    func revocationClosesThatAgentsLiveSockets(_ how: String) async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = try await t.addAgent("Ann", password: "first password")
            let bob = try await t.addAgent("Bob")
            let laptop = try await session(t, "ann@example.com", "first password")
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            let annLive = try await LiveClient.connect(t, token: laptop)
            let annOther = try await LiveClient.connect(t, token: ann.token)
            let bobLive = try await LiveClient.connect(t, token: bob.token)

            switch how {
            case "revoke one":
                let sessionId = try #require(try await t.get("/api/v1/agents/\(ann.id)/tokens").items.first { $0["kind"] as? String == "session" }?["id"] as? Int)
                #expect(try await t.request(.DELETE, "/api/v1/agents/\(ann.id)/tokens/\(sessionId)").status == 204)
            case "revoke all": #expect(try await t.request(.DELETE, "/api/v1/agents/\(ann.id)/tokens").status == 204)
            case "deactivate": #expect(try await t.postJSON("/api/v1/agents/\(ann.id)/deactivate", "{}").status == 200)
            case "reset password": #expect(try await t.patchJSON("/api/v1/agents/\(ann.id)", #"{"password":"reset password"}"#).status == 200)
            default: #expect(try await t.postJSON("/api/v1/auth/logout", "{}", token: laptop).status == 204)
            }

            let frame = try await annLive.closedByServer()
            #expect(frame?.closeCode == .policyViolation)
            #expect(annLive.messages.contains { $0["type"] as? String == "error" && $0["code"] as? String == "access_revoked" })
            // The socket of Ann's API token closes only when that token ended too.
            if ["revoke one", "log out"].contains(how) {
                try await annOther.send(#"{"type":"viewing","ticketId":\#(ticket)}"#)
                _ = try await annOther.next("presence") { ($0["agents"] as? [[String: Any]])?.count == 1 }
            } else {
                #expect(try await annOther.closedByServer()?.closeCode == .policyViolation)
            }
            // Bob's socket is untouched.
            try await bobLive.send(#"{"type":"viewing","ticketId":\#(ticket)}"#)
            _ = try await bobLive.next("presence") { LiveTests.agents($0).contains("Bob viewing") }
            #expect(bobLive.isOpen)
            await annOther.close()
            await bobLive.close()
        }
    }

    /// A socket whose agent loses a restriction's rights mid-connection gets the new rights, not the
    /// ones it connected with.
    @Test func aLiveSocketTakesTheAgentsCurrentRights() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let (sam, _, ticket) = try await samAndABillingTicket(t)
            let live = try await LiveClient.connect(t, token: sam.token)
            try await live.send(#"{"type":"viewing","ticketId":\#(ticket)}"#)
            _ = try await live.next("presence") { _ in true }
            #expect(try await t.patchJSON("/api/v1/agents/\(sam.id)", #"{"departmentsOnly":true}"#).status == 200)
            // The restriction is applied to the open socket (the hub looks the token up again once the
            // change is published): the billing ticket is refused from then on. Each try is answered,
            // with the presence it changed while the old rights still held, or with the refusal; the
            // tries alternate typing and viewing so that an accepted one always changes presence.
            var refused = false
            var state = "typing"
            let deadline = ContinuousClock.now + .seconds(30)  // a bound for a loaded machine, not a timing assertion
            while !refused, ContinuousClock.now < deadline {
                let count = live.messages.count
                try await live.send(#"{"type":"\#(state)","ticketId":\#(ticket)}"#)
                let answer = try await live.next(anyOf: ["error", "presence"], after: count)
                refused = answer["type"] as? String == "error" && answer["code"] as? String == "not_your_department"
                state = state == "typing" ? "viewing" : "typing"
            }
            #expect(refused)
            #expect(live.isOpen)
            await live.close()
        }
    }

    /// An agent's rights that change while the hub writes their presence (here held at the store
    /// while the restriction is applied): the message is checked again under the new rights,
    /// refused with its reason, and its entry taken back. Before, it went unanswered (presence goes
    /// only to those who may read the ticket) and the agent stayed listed on it.
    @Test func rightsThatChangeWhilePresenceIsWrittenAreCheckedAgain() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let (sam, _, ticket) = try await samAndABillingTicket(t)
            let store = HeldPresenceStore()
            let (hub, id, stream) = try await hubConnecting(t, sam, store: store)

            let typing = Task { await hub.receive(id, #"{"type":"typing","ticketId":\#(ticket)}"#) }
            defer { store.release() }
            try await t.eventually("the presence write held") { store.isHolding }
            #expect(try await t.patchJSON("/api/v1/agents/\(sam.id)", #"{"departmentsOnly":true}"#).status == 200)
            await hub.revalidate(id)
            store.release()
            await typing.value
            #expect(try await store.presence(ticketId: ticket, now: Date()).isEmpty)
            await hub.disconnect(id)

            var messages: [[String: Any]] = []
            for await text in stream {
                if let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] { messages.append(json) }
            }
            #expect(messages.contains { $0["type"] as? String == "error" && $0["code"] as? String == "not_your_department" }, "\(messages)")
        }
    }

    /// An agent already listed on a ticket that new rights hide is taken off it when the rights
    /// change, not when the entry lapses; a ticket it may still read keeps it.
    @Test func anAgentIsTakenOffTicketsItsNewRightsHide() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let (sam, sales, hidden) = try await samAndABillingTicket(t)
            let kept = try await t.customerWrites("U" + String(repeating: "b", count: 32), "hi")
            _ = try await t.postJSON("/api/v1/tickets/\(kept)/transfer", #"{"departmentId":\#(sales)}"#)
            let store = InMemoryPresenceStore()
            let (hub, id, _) = try await hubConnecting(t, sam, store: store)
            for ticket in [hidden, kept] { await hub.receive(id, #"{"type":"viewing","ticketId":\#(ticket)}"#) }
            #expect(await store.presence(ticketId: hidden, now: Date()).count == 1)

            #expect(try await t.patchJSON("/api/v1/agents/\(sam.id)", #"{"departmentsOnly":true}"#).status == 200)
            await hub.revalidate(id)
            #expect(await store.presence(ticketId: hidden, now: Date()).isEmpty)
            #expect(await store.presence(ticketId: kept, now: Date()).map(\.agentName) == ["Sam"])
            await hub.disconnect(id)
        }
    }
}

/// Presence whose first write is held until `release()`, to change what happens meanwhile; later
/// writes pass.
final class HeldPresenceStore: PresenceStore {
    private let inner = InMemoryPresenceStore()
    private enum Gate {
        case open, waitingForFirst
        case holding(CheckedContinuation<Void, Never>)
    }
    private let gate = Mutex(Gate.waitingForFirst)

    /// The first write is waiting at the gate.
    var isHolding: Bool { gate.withLock { if case .holding = $0 { true } else { false } } }

    func release() {
        let held = gate.withLock { gate -> CheckedContinuation<Void, Never>? in
            defer { gate = .open }
            if case .holding(let continuation) = gate { return continuation }
            return nil
        }
        held?.resume()
    }

    func set(_ entry: PresenceEntry) async throws {
        await withCheckedContinuation { continuation in
            let held = gate.withLock { gate in
                guard case .waitingForFirst = gate else { return false }
                gate = .holding(continuation)
                return true
            }
            if !held { continuation.resume() }
        }
        await inner.set(entry)
    }

    func remove(connectionId: UUID, ticketId: Int64?) async throws { await inner.remove(connectionId: connectionId, ticketId: ticketId) }
    func presence(ticketId: Int64, now: Date) async throws -> [PresenceEntry] { await inner.presence(ticketId: ticketId, now: now) }
    func expire(now: Date, sparing processId: String) async throws { await inner.expire(now: now, sparing: processId) }
    func changes(after version: Int64?) async throws -> PresenceChanges { await inner.changes(after: version) }
}
