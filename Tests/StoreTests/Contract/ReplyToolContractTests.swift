import Foundation
import Testing
import UniversalInbox

/// The stores behind the composer's tools, as every implementation must keep them: forbidden words
/// unique regardless of case, and canned responses unique per shortcut and place, seen by scope,
/// filled from the ticket they are used on.
@Suite struct ReplyToolContractTests {
    @Test(arguments: StoreKind.available)
    func forbiddenWordsAreUniqueRegardlessOfCase(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            let words = stores.forbiddenWordStore
            for word in ["refund", "Lawsuit", "REFUND", "chargeback", "返金"] { try await words.add(word, at: Date(ms: 1)) }
            #expect(try await words.words() == ["chargeback", "Lawsuit", "refund", "返金"])
            #expect(try await words.remove("LAWSUIT"))
            #expect(try await !words.remove("lawsuit"))
            #expect(try await words.remove("返金"))
            #expect(try await words.words() == ["chargeback", "refund"])
        }
    }

    /// Departments 1 (Sales) and 2 (Billing); Ann (7) and Bo (8); Kim's ticket 1 is in Sales, with a
    /// contact field and a ticket field.
    static let fixture = [
        "INSERT INTO departments (id, name, created_at) VALUES (1, 'Sales', 1), (2, 'Billing', 1)",
        "INSERT INTO agents (id, email, name, role, max_tickets, created_at, updated_at) VALUES (7, 'ann@example.com', 'Ann', 'agent', 5, 1, 1), (8, 'bo@example.com', 'Bo', 'admin', 5, 1, 1)",
        "INSERT INTO contacts (id, display_name, email, created_at, updated_at) VALUES (1, 'Kim', 'kim@example.com', 1, 1)",
        "INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at) VALUES (1, 1, 'line/main', 'line', 'U1', 1)",
        "INSERT INTO tickets (id, contact_id, status, last_identity_id, department_id, created_at, updated_at) VALUES (1, 1, 'open', 1, 1, 1, 1)",
        "INSERT INTO custom_fields (id, scope, key, label, type, created_at) VALUES (1, 'contact', 'plan', 'Plan', 'text', 1), (2, 'ticket', 'order', 'Order', 'text', 1)",
        "INSERT INTO contact_fields (contact_id, field_id, value) VALUES (1, 1, 'gold')",
        "INSERT INTO ticket_fields (ticket_id, field_id, value) VALUES (1, 2, 'A-1001')",
    ]

    @Test(arguments: StoreKind.available)
    func cannedResponsesAreSeenByScope(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let canned = stores.cannedResponseStore
            let global = try await canned.add(shortcut: "hi", title: "Hello", text: "Hello {{contact.name}}", agentId: nil, departmentId: nil, at: Date(ms: 1))
            let sales = try await canned.add(shortcut: "hi", title: "Sales hello", text: "Hi from Sales", agentId: nil, departmentId: 1, at: Date(ms: 2))
            let anns = try await canned.add(shortcut: "hi", title: "Ann's", text: "Ann here", agentId: 7, departmentId: nil, at: Date(ms: 3))
            let billing = try await canned.add(shortcut: "bye", title: "Bye", text: "Bye from Billing", agentId: nil, departmentId: 2, at: Date(ms: 4))
            #expect(try await canned.responses(in: .all) == [billing, global, sales, anns])
            #expect(try await canned.responses(in: .visible(agentId: 7, departments: [1], everyDepartment: false)) == [global, sales, anns])
            #expect(try await canned.responses(in: .visible(agentId: 8, departments: [], everyDepartment: true)) == [billing, global, sales])
            #expect(try await canned.responses(in: .visible(agentId: 8, departments: [], everyDepartment: false)) == [global])
            #expect(try await canned.response(id: sales.id) == sales)
            #expect(try await canned.delete(id: sales.id))
            #expect(try await !canned.delete(id: sales.id))
            #expect(try await canned.response(id: sales.id) == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func aShortcutIsUniquePerPlaceAndADepartmentMustExist(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let canned = stores.cannedResponseStore
            let first = try await canned.add(shortcut: "hi", title: "Hello", text: "Hello", agentId: nil, departmentId: 1, at: Date(ms: 1))
            await #expect(throws: InboxError.conflict(code: "shortcut_taken", message: "#hi already exists here")) {
                try await canned.add(shortcut: "hi", title: "Again", text: "Again", agentId: nil, departmentId: 1, at: Date(ms: 2))
            }
            await #expect(throws: InboxError.unprocessable(code: "no_such_department", message: "department 99 does not exist")) {
                try await canned.add(shortcut: "hi", title: "Nowhere", text: "Nowhere", agentId: nil, departmentId: 99, at: Date(ms: 2))
            }
            #expect(try await canned.responses(in: .all) == [first])
        }
    }

    /// An edit keeps the response's id and agent and is checked as an addition is: a shortcut
    /// another response has in the same place, or a department that does not exist, changes nothing.
    @Test(arguments: StoreKind.available)
    func anEditIsCheckedAsAnAdditionIs(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let canned = stores.cannedResponseStore
            let hi = try await canned.add(shortcut: "hi", title: "Hello", text: "Hello", agentId: nil, departmentId: nil, at: Date(ms: 1))
            let bye = try await canned.add(shortcut: "bye", title: "Bye", text: "Bye", agentId: nil, departmentId: nil, at: Date(ms: 2))
            let annsBye = try await canned.add(shortcut: "bye", title: "Ann's bye", text: "Ciao", agentId: 7, departmentId: nil, at: Date(ms: 3))

            var moved = hi
            (moved.shortcut, moved.title, moved.text, moved.departmentId) = ("hello", "Hello again", "Hello {{contact.name}}", 1)
            #expect(try await canned.update(moved))
            #expect(try await canned.response(id: hi.id) == moved)

            var clash = bye
            clash.shortcut = "hello"
            clash.departmentId = 1
            await #expect(throws: InboxError.shortcutTaken("hello")) { _ = try await canned.update(clash) }
            clash.departmentId = 99
            await #expect(throws: InboxError.noSuchDepartment(99)) { _ = try await canned.update(clash) }
            // The same shortcut in another place (global, or Ann's own) is no clash; a response keeps its own.
            var annsHello = annsBye
            annsHello.shortcut = "hello"
            #expect(try await canned.update(annsHello))
            var renamed = bye
            renamed.title = "Goodbye"
            #expect(try await canned.update(renamed))

            var gone = bye
            gone.id = 999
            #expect(try await !canned.update(gone))
            #expect(try await canned.responses(in: .all) == [renamed, moved, annsHello])
        }
    }

    @Test(arguments: StoreKind.available)
    func aTicketsTemplateValuesComeFromItsContactFieldsAndAgent(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let canned = stores.cannedResponseStore
            #expect(try await canned.templateContext(ticketId: 1, agentId: 7) == TemplateContext(departmentId: 1, values: [
                "contact.name": "Kim", "contact.email": "kim@example.com", "contact.field.plan": "gold",
                "ticket.id": "1", "ticket.field.order": "A-1001", "agent.email": "ann@example.com",
            ]))
            #expect(try await canned.templateContext(ticketId: 1, agentId: nil)?.values["agent.email"] == nil)
            #expect(try await canned.templateContext(ticketId: 2, agentId: 7) == nil)
        }
    }
}
