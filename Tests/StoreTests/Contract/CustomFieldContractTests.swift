import Foundation
import Testing
import UniversalInbox

/// `CustomFieldStore` as every implementation must keep it: a key is unique within its scope (the
/// same key on tickets and contacts is two fields), fields list in the order they were created, and
/// two processes adding one key at once add one field.
@Suite struct CustomFieldContractTests {
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
