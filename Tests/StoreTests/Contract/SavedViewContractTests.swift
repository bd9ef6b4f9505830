import Foundation
import Testing
import UniversalInbox

/// `SavedViewStore` as every implementation must keep it: an agent sees the shared views and its
/// own (its own first, each group by name); a name is unique per owner (the shared views are one
/// owner), even when two processes add it at once.
@Suite struct SavedViewContractTests {
    static let agents = """
        INSERT INTO agents (id, email, name, role, max_tickets, created_at, updated_at)
        VALUES (7, 'ann@example.com', 'Ann', 'agent', 5, 1, 1), (8, 'bo@example.com', 'Bo', 'agent', 5, 1, 1)
        """

    @Test(arguments: StoreKind.available)
    func anAgentSeesItsOwnViewsAndTheSharedOnes(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            try await stores.sql.execute(Self.agents)
            let views = stores.savedViewStore
            let urgent = try await views.add(name: "Urgent", filter: "priority=urgent", agentId: nil, at: Date(ms: 1))
            let vip = try await views.add(name: "VIP", filter: "tag=vip", agentId: 7, at: Date(ms: 2))
            let mine = try await views.add(name: "Mine", filter: "agent=me", agentId: 7, at: Date(ms: 3))
            let bos = try await views.add(name: "VIP", filter: "tag=vip&status=open", agentId: 8, at: Date(ms: 4))
            let backlog = try await views.add(name: "Backlog", filter: "status=pending", agentId: nil, at: Date(ms: 5))
            #expect(try await views.views(for: 7) == [mine, vip, backlog, urgent])
            #expect(try await views.views(for: 8) == [bos, backlog, urgent])
            #expect(try await views.views(for: nil) == [backlog, urgent])
            #expect(try await views.everyView() == [urgent, vip, mine, bos, backlog])
            #expect(try await views.view(id: vip.id) == vip)
            #expect(try await views.delete(id: vip.id))
            #expect(try await views.view(id: vip.id) == nil)
            #expect(try await !views.delete(id: vip.id))
            #expect(try await views.views(for: 7) == [mine, backlog, urgent])
        }
    }

    @Test(arguments: StoreKind.available)
    func aNameIsUniquePerOwner(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            try await stores.sql.execute(Self.agents)
            let views = stores.savedViewStore
            let shared = try await views.add(name: "VIP", filter: "tag=vip", agentId: nil, at: Date(ms: 1))
            let own = try await views.add(name: "VIP", filter: "tag=vip", agentId: 7, at: Date(ms: 2))
            await #expect(throws: InboxError.conflict(code: "name_taken", message: "a view named VIP already exists")) {
                try await views.add(name: "VIP", filter: "tag=other", agentId: nil, at: Date(ms: 3))
            }
            await #expect(throws: InboxError.conflict(code: "name_taken", message: "a view named VIP already exists")) {
                try await views.add(name: "VIP", filter: "tag=other", agentId: 7, at: Date(ms: 3))
            }
            #expect(try await views.views(for: 7) == [own, shared])
        }
    }

    /// Two processes adding the same shared view at once: one gets it, the other is told the name is taken.
    @Test func twoProcessesAddingOneNameAddOneView() async throws {
        guard TestServer.available else { return }
        try await Stores.withPostgresProcesses(2) { processes throws in
            for round in 0..<5 {
                let results = await withTaskGroup(of: Bool.self) { group in
                    for process in processes {
                        group.addTask { (try? await process.savedViewStore.add(name: "Round \(round)", filter: "q=\(round)", agentId: nil, at: Date(ms: 1))) != nil }
                    }
                    return await group.reduce(into: [Bool]()) { $0.append($1) }
                }
                #expect(results.filter { $0 }.count == 1)
            }
            #expect(try await processes[0].savedViewStore.views(for: nil).count == 5)
        }
    }
}
