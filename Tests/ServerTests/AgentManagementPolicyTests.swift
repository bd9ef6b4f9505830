@testable import BridgeServer
import Foundation
import NIOHTTP1
import Testing
import UniversalInbox

/// `AgentPolicy` through every agent-management route: an actor manages only agents below its role
/// (owner > admin > agent; the admin token above all), itself for its password and tokens, and
/// grants no role above its own. Every refusal changes nothing.
@Suite struct AgentManagementPolicyTests {
    /// The reported attack: an admin mints a token for the owner and changes the owner's password with it.
    @Test func anAdminCannotBecomeTheOwner() async throws {
        try await TestBridge.with { t in
            let owner = try await t.addAgent("Olga Owner", role: "owner", password: "owner password 1")
            let admin = try await t.addAgent("Ada Admin", role: "admin")

            let minted = try await t.postJSON("/api/v1/agents/\(owner.id)/tokens", "{}", token: admin.token)
            #expect(minted.status == 403)
            #expect(minted.errorCode == "rank_too_low")
            #expect(minted.json["token"] == nil)
            let reset = try await t.patchJSON("/api/v1/agents/\(owner.id)", #"{"password":"taken over by ada"}"#, token: admin.token)
            #expect(reset.status == 403)
            #expect(reset.errorCode == "rank_too_low")
            #expect(try await t.postJSON("/api/v1/agents/\(owner.id)/deactivate", "{}", token: admin.token).status == 403)
            // Nor can it make itself, or anyone, an owner.
            let promoted = try await t.patchJSON("/api/v1/agents/\(admin.id)", #"{"role":"owner"}"#, token: admin.token)
            #expect(promoted.status == 403)
            #expect(promoted.errorCode == "role_above_yours")
            let added = try await t.postJSON("/api/v1/agents", #"{"email":"mallory@example.com","name":"Mallory","role":"owner"}"#, token: admin.token)
            #expect(added.errorCode == "role_above_yours")

            // The owner's password and tokens are as they were.
            let login = try await t.postJSON("/api/v1/auth/login", #"{"email":"olga.owner@example.com","password":"owner password 1"}"#, token: nil)
            #expect(login.status == 201)
            #expect(try await t.get("/api/v1/agents/\(owner.id)/tokens").items.count == 2)  // the test's API token and this login
            #expect(try await t.get("/api/v1/agents").items.map { $0["role"] as? String } == ["owner", "admin"])
        }
    }

    @Test func restrictionsAreForAgentsOnly() async throws {
        try await TestBridge.with { t in
            let admin = try await t.addAgent("Ada", role: "admin")
            let sam = try await t.addAgent("Sam")
            #expect(try await t.patchJSON("/api/v1/agents/\(sam.id)", #"{"departmentsOnly":true}"#).status == 200)
            // A restricted admin could lift its own restriction, or mint a wider agent: there is none.
            let restrictedAdmin = try await t.patchJSON("/api/v1/agents/\(admin.id)", #"{"departmentsOnly":true}"#)
            #expect(restrictedAdmin.status == 422)
            #expect(restrictedAdmin.errorCode == "restrictions_are_for_agents")
            let promoted = try await t.patchJSON("/api/v1/agents/\(sam.id)", #"{"role":"admin"}"#)
            #expect(promoted.errorCode == "restrictions_are_for_agents")
            #expect(try await t.get("/api/v1/agents/\(sam.id)").json["role"] as? String == "agent")  // nothing changed
            #expect(try await t.patchJSON("/api/v1/agents/\(sam.id)", #"{"role":"admin","departmentsOnly":false}"#).status == 200)
        }
    }

    @Test func grantsStopAtTheGrantersRole() async throws {
        try await TestBridge.with { t in
            let owner = try await t.addAgent("Olga", role: "owner")
            let admin = try await t.addAgent("Ada", role: "admin")
            let agent = try await t.addAgent("Carl")
            // An admin may add agents and admins (its own role), and promote an agent to admin.
            #expect(try await t.postJSON("/api/v1/agents", #"{"email":"a2@example.com","name":"A2","role":"admin"}"#, token: admin.token).status == 201)
            #expect(try await t.patchJSON("/api/v1/agents/\(agent.id)", #"{"role":"admin"}"#, token: admin.token).status == 200)
            // ...after which that admin is no longer below it.
            #expect(try await t.patchJSON("/api/v1/agents/\(agent.id)", #"{"role":"agent"}"#, token: admin.token).errorCode == "rank_too_low")
            // An owner may add an owner; an agent grants nothing.
            #expect(try await t.postJSON("/api/v1/agents", #"{"email":"o2@example.com","name":"O2","role":"owner"}"#, token: owner.token).status == 201)
            let cleo = try await t.addAgent("Cleo")
            #expect(try await t.postJSON("/api/v1/agents", #"{"email":"x@example.com","name":"X"}"#, token: cleo.token).errorCode == "admins_only")
            // Owners are managed by themselves and the admin token, not by each other.
            let olga2 = try #require(try await t.get("/api/v1/agents").items.first { $0["email"] as? String == "o2@example.com" }?["id"] as? Int)
            #expect(try await t.postJSON("/api/v1/agents/\(olga2)/tokens", "{}", token: owner.token).errorCode == "rank_too_low")
            #expect(try await t.postJSON("/api/v1/agents/\(olga2)/tokens", "{}").status == 201)
        }
    }

    enum Operation: String, CaseIterable {
        case makeToken, listTokens, revokeToken, revokeAllTokens, setPassword, changeSettings, deactivate, reactivate
    }

    /// Every agent-management route × owner, admin, agent and the admin token × an owner, an
    /// admin, an agent and the actor itself: allowed exactly as the rule says, and a refusal changes
    /// nothing (agents and the target's tokens are as before).
    @Test func everyManagementRouteFollowsTheOneRule() async throws {
        try await TestBridge.with { t in
            let people: [(name: String, role: String)] = [
                ("Olga", "owner"), ("Ada", "admin"), ("Carl", "agent"), ("Otto", "owner"), ("Anna", "admin"), ("Cleo", "agent"),
            ]
            var ids: [String: Int64] = [:]
            for person in people { ids[person.name] = try await t.addAgent(person.name, role: person.role).id }
            let rank = ["agent": 0, "admin": 1, "owner": 2]
            let actors: [(name: String, role: String)] = [("Olga", "owner"), ("Ada", "admin"), ("Carl", "agent"), ("admin token", "token")]
            let targets: [(name: String, role: String)] = [("Otto", "owner"), ("Anna", "admin"), ("Cleo", "agent")]

            /// A fresh token for `agentId`, minted with the admin token; its id and value.
            func mint(_ agentId: Int64) async throws -> (id: Int, token: String) {
                let reply = try await t.postJSON("/api/v1/agents/\(agentId)/tokens", #"{"label":"matrix"}"#)
                guard let id = reply.json["id"] as? Int, let token = reply.json["token"] as? String else {
                    throw TestBridge.TimeoutError(what: "a token for agent \(agentId): \(reply.text)")
                }
                return (id, token)
            }
            func snapshot(_ target: Int64) async throws -> String {
                try await t.get("/api/v1/agents").text + (try await t.get("/api/v1/agents/\(target)/tokens").text)
            }

            var checked = 0
            for actor in actors {
                let selfTarget = actor.role == "token" ? [] : [(name: actor.name, role: actor.role)]
                for target in targets + selfTarget {
                    let isSelf = target.name == actor.name
                    let targetId = try #require(ids[target.name])
                    for operation in Operation.allCases {
                        let actorToken = actor.role == "token" ? TestBridge.adminToken : try await mint(ids[actor.name]!).token
                        let targetToken = try await mint(targetId)
                        if operation == .reactivate { _ = try await t.postJSON("/api/v1/agents/\(targetId)/deactivate", "{}") }
                        let actorRank = actor.role == "token" ? 3 : rank[actor.role]!
                        let allowed: Bool =
                            if isSelf {
                                switch operation {
                                case .makeToken, .listTokens, .revokeToken, .revokeAllTokens, .setPassword: true
                                case .changeSettings: actorRank >= 1
                                case .deactivate, .reactivate: false
                                }
                            } else {
                                actorRank >= 1 && actorRank > rank[target.role]!
                            }
                        let (method, path, body): (HTTPMethod, String, String) =
                            switch operation {
                            case .makeToken: (.POST, "/api/v1/agents/\(targetId)/tokens", "{}")
                            case .listTokens: (.GET, "/api/v1/agents/\(targetId)/tokens", "")
                            case .revokeToken: (.DELETE, "/api/v1/agents/\(targetId)/tokens/\(targetToken.id)", "")
                            case .revokeAllTokens: (.DELETE, "/api/v1/agents/\(targetId)/tokens", "")
                            case .setPassword: (.PATCH, "/api/v1/agents/\(targetId)", #"{"password":"a new password 1"}"#)
                            case .changeSettings: (.PATCH, "/api/v1/agents/\(targetId)", #"{"maxTickets":7}"#)
                            case .deactivate: (.POST, "/api/v1/agents/\(targetId)/deactivate", "{}")
                            case .reactivate: (.POST, "/api/v1/agents/\(targetId)/reactivate", "{}")
                            }
                        let before = try await snapshot(targetId)
                        let reply = try await t.request(
                            method, path, body: body.isEmpty ? nil : Data(body.utf8), headers: [("Content-Type", "application/json")], token: actorToken)
                        let what = "\(actor.name) \(operation.rawValue) on \(target.name)"
                        if isSelf, operation == .reactivate {
                            // Deactivated, the actor's own tokens no longer work at all.
                            #expect(reply.status == 401, "\(what): \(reply.status) \(reply.text)")
                        } else if allowed {
                            #expect((200..<300).contains(reply.status), "\(what): \(reply.status) \(reply.text)")
                        } else {
                            #expect(reply.status == 403, "\(what): \(reply.status) \(reply.text)")
                            #expect(["admins_only", "rank_too_low", "cannot_deactivate_self"].contains(reply.errorCode ?? ""), "\(what): \(reply.text)")
                            #expect(try await snapshot(targetId) == before, "\(what) changed something")
                        }
                        // Back to the starting point for the next case.
                        _ = try await t.postJSON("/api/v1/agents/\(targetId)/reactivate", "{}")
                        checked += 1
                    }
                }
            }
            #expect(checked == (3 * 4 + 3) * Operation.allCases.count)
        }
    }
}
