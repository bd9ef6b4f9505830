import Foundation
import Testing
import UniversalInbox

/// `AgentStore` as every implementation must keep it: e-mail addresses and department names unique
/// in any case, changes all or nothing, at least one active owner (even when two processes act on
/// two owners at once), restrictions only on agents, tokens that end with a new password, their
/// expiry or a deactivation, and a deactivated agent's tickets back in the queue.
@Suite struct AgentContractTests {
    static func at(_ ms: Int64) -> Date { Date(ms: ms) }

    @Test(arguments: StoreKind.available)
    func agentsAreAddedReadAndUniqueByEmail(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            let agents = stores.agentStore
            let sales = try await agents.createDepartment(name: "Sales", at: Self.at(1))
            let billing = try await agents.createDepartment(name: "Billing", at: Self.at(1))
            let ann = try await agents.create(
                NewAgent(email: "ann@example.com", name: "Ann", role: .agent, passwordHash: "hash-a", maxTickets: 3, departments: [billing.id, sales.id, sales.id]),
                at: Self.at(2))
            let bo = try await agents.create(NewAgent(email: "bo@example.com", name: "Bo", role: .owner), at: Self.at(3))
            let read = try #require(try await agents.agent(id: ann))
            #expect(read == Agent(
                id: ann, email: "ann@example.com", name: "Ann", role: .agent, availability: .offline, maxTickets: 3, distributionPaused: false,
                departmentsOnly: false, answerAssignedOnly: false, departments: [sales.id, billing.id].sorted(), activeTickets: 0, hasPassword: true,
                active: true))
            #expect(try await agents.agents().map(\.id) == [ann, bo])
            #expect(try await agents.agent(id: bo)?.hasPassword == false)
            #expect(try await agents.agent(id: 999) == nil)
            let credentials = try #require(try await agents.credentials(email: "ANN@example.com"))
            #expect(credentials.agent.id == ann && credentials.passwordHash == "hash-a")
            #expect(try await agents.credentials(email: "bo@example.com") == nil)  // no password
            #expect(try await agents.credentials(email: "nobody@example.com") == nil)
            await #expect(throws: InboxError.emailTaken("Ann@Example.com")) {
                try await agents.create(NewAgent(email: "Ann@Example.com", name: "Ann again", role: .agent), at: Self.at(4))
            }
            await #expect(throws: InboxError.noSuchDepartment(99)) {
                try await agents.create(NewAgent(email: "cy@example.com", name: "Cy", role: .agent, departments: [sales.id, 99]), at: Self.at(4))
            }
            #expect(try await agents.agents().map(\.id) == [ann, bo])
            #expect(try await agents.departments() == [
                Department(id: sales.id, name: "Sales", members: [ann]), Department(id: billing.id, name: "Billing", members: [ann]),
            ])
            await #expect(throws: InboxError.departmentNameTaken("SALES")) { try await agents.createDepartment(name: "SALES", at: Self.at(5)) }
            #expect(try await agents.departments().count == 2)
        }
    }

    @Test(arguments: StoreKind.available)
    func changesAreAllOrNothing(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            let agents = stores.agentStore
            let sales = try await agents.createDepartment(name: "Sales", at: Self.at(1))
            let owner = try await agents.create(NewAgent(email: "olga@example.com", name: "Olga", role: .owner), at: Self.at(1))
            let ann = try await agents.create(NewAgent(email: "ann@example.com", name: "Ann", role: .agent), at: Self.at(1))
            var changes = AgentChanges()
            changes.name = "Ann Lee"
            changes.availability = .online
            changes.maxTickets = 9
            changes.distributionPaused = true
            changes.departmentsOnly = true
            changes.departments = [sales.id]
            try await agents.update(id: ann, changes, keepingToken: nil, at: Self.at(2))
            let changed = try #require(try await agents.agent(id: ann))
            #expect(
                (changed.name, changed.availability, changed.maxTickets, changed.distributionPaused, changed.departmentsOnly, changed.departments)
                    == ("Ann Lee", .online, 9, true, true, [sales.id]))
            // A restricted admin is refused, and nothing of the change is kept.
            var promote = AgentChanges()
            promote.role = .admin
            promote.name = "Admin Ann"
            await #expect(throws: InboxError.restrictionsAreForAgents) { try await agents.update(id: ann, promote, keepingToken: nil, at: Self.at(3)) }
            #expect(try await agents.agent(id: ann) == changed)
            var elsewhere = AgentChanges()
            elsewhere.departments = [99]
            await #expect(throws: InboxError.noSuchDepartment(99)) { try await agents.update(id: ann, elsewhere, keepingToken: nil, at: Self.at(3)) }
            #expect(try await agents.agent(id: ann) == changed)
            var demote = AgentChanges()
            demote.role = .admin
            await #expect(throws: InboxError.lastOwnerDemoted) { try await agents.update(id: owner, demote, keepingToken: nil, at: Self.at(3)) }
            await #expect(throws: InboxError.agentNotFound(999)) { try await agents.update(id: 999, demote, keepingToken: nil, at: Self.at(3)) }
            #expect(try await agents.agent(id: owner)?.role == .owner)
        }
    }

    @Test(arguments: StoreKind.available)
    func tokensEndWithExpiryANewPasswordOrRevocation(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            let agents = stores.agentStore
            let ann = try await agents.create(NewAgent(email: "ann@example.com", name: "Ann", role: .agent, passwordHash: "old"), at: Self.at(1))
            let bo = try await agents.create(NewAgent(email: "bo@example.com", name: "Bo", role: .agent), at: Self.at(1))
            let login = try await agents.addToken(digest: "d-login", agentId: ann, kind: "session", label: nil, expiresAt: Self.at(1_000), at: Self.at(10))
            let api = try await agents.addToken(digest: "d-api", agentId: ann, kind: "api", label: "CRM", expiresAt: nil, at: Self.at(20))
            _ = try await agents.addToken(digest: "d-bo", agentId: bo, kind: "api", label: nil, expiresAt: nil, at: Self.at(20))
            #expect(try await agents.agent(tokenDigest: "d-login", at: Self.at(999))?.id == ann)
            #expect(try await agents.agent(tokenDigest: "d-login", at: Self.at(1_000)) == nil)
            #expect(try await agents.agent(tokenDigest: "d-nothing", at: Self.at(30)) == nil)
            #expect(try await agents.tokens(agentId: ann, at: Self.at(30)) == [
                AgentToken(id: login, agentId: ann, kind: "session", label: nil, createdAt: Self.at(10), expiresAt: Self.at(1_000)),
                AgentToken(id: api, agentId: ann, kind: "api", label: "CRM", createdAt: Self.at(20), expiresAt: nil),
            ])
            #expect(try await agents.tokens(agentId: ann, at: Self.at(1_000)).map(\.id) == [api])
            await #expect(throws: InboxError.agentNotFound(999)) { try await agents.tokens(agentId: 999, at: Self.at(30)) }
            // A new password keeps only the token it was changed with.
            var password = AgentChanges()
            password.passwordHash = "new"
            try await agents.update(id: ann, password, keepingToken: "d-api", at: Self.at(40))
            #expect(try await agents.tokens(agentId: ann, at: Self.at(50)).map(\.id) == [api])
            #expect(try await agents.credentials(email: "ann@example.com")?.passwordHash == "new")
            #expect(try await agents.agent(tokenDigest: "d-bo", at: Self.at(50))?.id == bo)
            #expect(try await !agents.deleteToken(id: api, agentId: bo))
            #expect(try await agents.deleteToken(id: api, agentId: ann))
            #expect(try await agents.deleteToken(digest: "d-bo") == bo)
            #expect(try await agents.deleteToken(digest: "d-bo") == nil)
            for digest in ["d1", "d2"] { _ = try await agents.addToken(digest: digest, agentId: ann, kind: "api", label: nil, expiresAt: nil, at: Self.at(60)) }
            #expect(try await agents.deleteTokens(agentId: ann) == 2)
            await #expect(throws: InboxError.agentNotFound(999)) { try await agents.deleteTokens(agentId: 999) }
            await #expect(throws: InboxError.agentNotFound(999)) {
                try await agents.addToken(digest: "x", agentId: 999, kind: "api", label: nil, expiresAt: nil, at: Self.at(60))
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func deactivationRequeuesTicketsAndEndsAccess(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            let agents = stores.agentStore
            let owner = try await agents.create(NewAgent(email: "olga@example.com", name: "Olga", role: .owner), at: Self.at(1))
            let ann = try await agents.create(NewAgent(email: "ann@example.com", name: "Ann", role: .agent), at: Self.at(1))
            for sql in [
                "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Kim', 1, 1)",
                "INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at) VALUES (1, 1, 'line/main', 'line', 'U1', 1)",
                """
                INSERT INTO tickets (id, contact_id, status, last_identity_id, agent_id, assignee, created_at, updated_at)
                VALUES (1, 1, 'open', 1, \(ann), 'Ann', 1, 1), (2, 1, 'closed', 1, \(ann), 'Ann', 1, 1), (3, 1, 'pending', 1, \(ann), 'Ann', 1, 1)
                """,
                """
                INSERT INTO notifications (agent_id, medium, event, ticket_id, summary, status, due_at, created_at)
                VALUES (\(ann), 'email', 'assigned', 1, 'Kim', 'pending', 1, 1), (\(ann), 'email', 'assigned', 2, 'Kim', 'sent', 1, 1)
                """,
            ] { try await stores.sql.execute(sql) }
            _ = try await agents.addToken(digest: "d-ann", agentId: ann, kind: "api", label: nil, expiresAt: nil, at: Self.at(2))
            #expect(try await agents.deactivate(id: ann, by: "agent:\(owner)", at: Self.at(100)) == [1, 3])
            let gone = try #require(try await agents.agent(id: ann))
            #expect(!gone.active && gone.availability == .offline)
            #expect(try await agents.agent(tokenDigest: "d-ann", at: Self.at(101)) == nil)
            #expect(try await agents.credentials(email: "ann@example.com") == nil)
            #expect(try await stores.sql.rows("SELECT id, agent_id, assignee, queued_at FROM tickets ORDER BY id") == [
                [.int(1), .null, .null, .int(100)], [.int(2), .int(ann), .text("Ann"), .null], [.int(3), .null, .null, .int(100)],
            ])
            #expect(try await stores.sql.rows("SELECT ticket_id, kind, actor, detail, created_at FROM ticket_events ORDER BY ticket_id") == [1, 3].map {
                [.int($0), .text("transferred"), .text("agent:\(owner)"), .text(try! AgentDeactivation.historyDetail(agentId: ann)), .int(100)]
            })
            #expect(try await stores.sql.rows("SELECT status FROM notifications ORDER BY id") == [[.text("sent")]])
            // Twice: nothing more happens.
            #expect(try await agents.deactivate(id: ann, by: "agent:\(owner)", at: Self.at(200)) == nil)
            #expect(try await stores.sql.rows("SELECT count(*) FROM ticket_events") == [[.int(2)]])
            await #expect(throws: InboxError.agentDeactivated(ann)) {
                try await agents.addToken(digest: "d-again", agentId: ann, kind: "api", label: nil, expiresAt: nil, at: Self.at(201))
            }
            await #expect(throws: InboxError.lastOwnerDeactivated) { try await agents.deactivate(id: owner, by: "admin token", at: Self.at(200)) }
            await #expect(throws: InboxError.agentNotFound(999)) { try await agents.deactivate(id: 999, by: "admin token", at: Self.at(200)) }
            try await agents.reactivate(id: ann, at: Self.at(300))
            let back = try #require(try await agents.agent(id: ann))
            #expect(back.active && back.availability == .offline)
            await #expect(throws: InboxError.agentNotFound(999)) { try await agents.reactivate(id: 999, at: Self.at(300)) }
        }
    }

    /// The first agent starts the alerts feed at the log's head; later ones leave it where it is.
    @Test(arguments: StoreKind.available)
    func theFirstAgentStartsTheAlertsFeedAtTheLogsHead(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            for sql in [
                "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, 'Kim', 1, 1)",
                "INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at) VALUES (1, 1, 'line/main', 'line', 'U1', 1)",
                "INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at) VALUES (1, 1, 'new', 1, 1, 1)",
            ] { try await stores.sql.execute(sql) }
            let head = try await stores.eventLog.head()
            #expect(head > 0)
            _ = try await stores.agentStore.create(NewAgent(email: "ann@example.com", name: "Ann", role: .owner), at: Self.at(1))
            #expect(try await stores.sql.rows("SELECT last_id FROM feed_cursors WHERE name = 'notify.log'") == [[.int(head)]])
            try await stores.sql.execute("UPDATE tickets SET status = 'open' WHERE id = 1")
            _ = try await stores.agentStore.create(NewAgent(email: "bo@example.com", name: "Bo", role: .agent), at: Self.at(2))
            #expect(try await stores.sql.rows("SELECT last_id FROM feed_cursors WHERE name = 'notify.log'") == [[.int(head)]])
        }
    }

    /// Two processes each taking away one of the two owners at once: one succeeds, and one active
    /// owner is left.
    @Test func twoProcessesCannotLeaveNoOwner() async throws {
        guard TestServer.available else { return }
        try await Stores.withPostgresProcesses(2) { processes throws in
            for round in 0..<5 {
                let a = try await processes[0].agentStore.create(NewAgent(email: "a\(round)@example.com", name: "A", role: .owner), at: Self.at(1))
                let b = try await processes[0].agentStore.create(NewAgent(email: "b\(round)@example.com", name: "B", role: .owner), at: Self.at(1))
                var demote = AgentChanges()
                demote.role = .admin
                async let demoted: Void = processes[0].agentStore.update(id: a, demote, keepingToken: nil, at: Self.at(2))
                async let deactivated = processes[1].agentStore.deactivate(id: b, by: "admin token", at: Self.at(2))
                // One wins; the other is refused by the rule (not by a deadlock or any other error).
                var refusals: [InboxError] = []
                do { try await demoted } catch let error as InboxError { refusals.append(error) }
                do { _ = try await deactivated } catch let error as InboxError { refusals.append(error) }
                #expect(refusals == [.lastOwnerDemoted] || refusals == [.lastOwnerDeactivated])
                let owners = try await processes[1].agentStore.agents().filter { $0.role == .owner && $0.active }
                #expect(owners.count == 1)
                // Leave the next round two fresh owners to race over.
                try await processes[0].sql.execute("UPDATE agents SET deactivated_at = 3 WHERE role = 'owner'")
            }
        }
    }
}
