import Foundation
import Testing
import UniversalInbox

/// `CustomFieldStore` as every implementation must keep it: a key is unique within its scope (the
/// same key on tickets and contacts is two fields), fields list in the order they were created, and
/// two processes adding one key at once add one field; a field deleted goes with its values, and a
/// value written for it afterwards (its definition read before) is refused, writing nothing.
@Suite struct CustomFieldContractTests {
    /// Kim's ticket 1 with a contact field (1, plan) and a ticket field (2, order) set, and a third
    /// field (3, city) without values.
    static let fixture = ReplyToolContractTests.fixture + [
        "INSERT INTO custom_fields (id, scope, key, label, type, created_at) VALUES (3, 'contact', 'city', 'City', 'text', 1)"
    ]

    @Test(arguments: StoreKind.available)
    func aDeletedFieldGoesWithItsValues(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let fields = stores.customFieldStore
            #expect(try await fields.delete(id: 1))
            #expect(try await fields.delete(id: 2))
            #expect(try await !fields.delete(id: 2))
            #expect(try await fields.fields(scope: nil).map(\.key) == ["city"])
            #expect(try await stores.sql.rows("SELECT count(*) FROM contact_fields") == [[.int(0)]])
            #expect(try await stores.sql.rows("SELECT count(*) FROM ticket_fields") == [[.int(0)]])
        }
    }

    /// The domain reads a definition, the field is deleted, then the value is written: the write
    /// refuses it (`unknown_field`, a 422) instead of a foreign-key failure or an orphan value, and
    /// the rest of the edit is not written either.
    @Test(arguments: StoreKind.available)
    func aValueForAFieldDeletedMeanwhileIsRefused(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let defined = try await stores.customFieldStore.fields(scope: nil)
            let order = try #require(defined.first { $0.key == "order" })
            #expect(try await stores.customFieldStore.delete(id: order.id))
            #expect(try await stores.customFieldStore.delete(id: 3))
            let ann = Caller(agentId: 7, name: "Ann", role: .agent)
            await #expect(throws: InboxError.fieldDeleted(order.id)) {
                try await stores.ticketStore.update(
                    ticketId: 1, TicketEdit(addTags: ["vip"], fields: [FieldValueChange(field: order, value: "A-2")]), by: ann, at: Date(ms: 5),
                    check: { _, _ in })
            }
            await #expect(throws: InboxError.fieldDeleted(3)) {
                try await stores.contactStore.update(contactId: 1, ContactUpdate(displayName: "Kimberly", fields: [3: "Osaka"]), at: Date(ms: 5))
            }
            #expect(try await stores.sql.rows("SELECT count(*) FROM ticket_fields") == [[.int(0)]])
            #expect(try await stores.sql.rows("SELECT count(*) FROM contact_fields WHERE field_id = 3") == [[.int(0)]])
            #expect(try await stores.sql.rows("SELECT count(*) FROM ticket_tags") == [[.int(0)]])
            #expect(try await stores.sql.rows("SELECT display_name FROM contacts WHERE id = 1") == [[.text("Kim")]])
        }
    }

    @Test(arguments: StoreKind.available)
    func aKeyIsUniquePerScope(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            let fields = stores.customFieldStore
            var tier = CustomField(scope: .contact, key: "tier", label: "Tier", type: .select, options: ["gold", "silver"])
            tier.id = try await fields.create(tier, at: Date(ms: 1))
            var order = CustomField(scope: .ticket, key: "tier", label: "Order tier", type: .text)
            order.id = try await fields.create(order, at: Date(ms: 2))
            var city = CustomField(scope: .contact, key: "city", label: "City", type: .text)
            city.id = try await fields.create(city, at: Date(ms: 3))
            let taken = CustomField(scope: .contact, key: "tier", label: "Another", type: .number)
            await #expect(throws: InboxError.fieldKeyTaken(taken)) { _ = try await fields.create(taken, at: Date(ms: 4)) }
            #expect(try await fields.fields(scope: .contact) == [tier, city])
            #expect(try await fields.fields(scope: .ticket) == [order])
            #expect(try await fields.fields(scope: nil) == [tier, order, city])
        }
    }

    /// Two processes adding the same field at once: one adds it, the other is told the key is taken.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func twoProcessesAddingOneKeyAddOneField() async throws {
        try await Stores.withPostgresProcesses(2) { processes throws in
            for round in 0..<5 {
                let field = CustomField(scope: .contact, key: "k\(round)", label: "K", type: .text)
                let results = await withTaskGroup(of: Bool.self) { group in
                    for process in processes {
                        group.addTask { (try? await process.customFieldStore.create(field, at: Date(ms: 1))) != nil }
                    }
                    return await group.reduce(into: [Bool]()) { $0.append($1) }
                }
                #expect(results.filter { $0 }.count == 1)
            }
            #expect(try await processes[1].customFieldStore.fields(scope: .contact).map(\.key) == ["k0", "k1", "k2", "k3", "k4"])
        }
    }
}
