import ChannelKit
import Foundation
import Testing
import UniversalInbox

/// Which department a channel account's new tickets open in (`AgentStore.routeAccount`), as every
/// implementation must keep it: one department per account, an unknown department refused with
/// nothing changed, the route listed with its department, and ingest opening the account's new
/// tickets there (and only new ones: a ticket already open stays where it is).
@Suite struct AccountDepartmentContractTests {
    static let line = ChannelAccountRef(kind: .line, id: "shop")
    static let sms = ChannelAccountRef(kind: .sms, id: "main")
    static let now = Date(ms: 1_700_000_000_000)

    static func text(_ eventId: String, from user: String) -> InboundEvent {
        InboundEvent(
            kind: .message, eventId: eventId, occurredAt: now, sender: Sender(id: user, displayName: "Kim"),
            message: InboundMessage(id: "m-\(eventId)", content: .text("hello")))
    }

    @Test(arguments: StoreKind.available)
    func anAccountsRouteIsKeptAndListedWithItsDepartment(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            let agents = stores.agentStore
            let sales = try await agents.createDepartment(name: "Sales", at: Self.now)
            let billing = try await agents.createDepartment(name: "Billing", at: Self.now)
            try await agents.routeAccount("line/shop", toDepartment: sales.id, at: Self.now)
            try await agents.routeAccount("sms/main", toDepartment: sales.id, at: Self.now)
            #expect(try await agents.departments().map(\.accounts) == [["line/shop", "sms/main"], []])
            // Moving an account takes it out of the other department.
            try await agents.routeAccount("line/shop", toDepartment: billing.id, at: Self.now)
            #expect(try await agents.departments().map(\.accounts) == [["sms/main"], ["line/shop"]])
            await #expect(throws: InboxError.noSuchDepartment(99)) { try await agents.routeAccount("line/shop", toDepartment: 99, at: Self.now) }
            #expect(try await agents.departments().map(\.accounts) == [["sms/main"], ["line/shop"]])
            try await agents.routeAccount("sms/main", toDepartment: nil, at: Self.now)
            try await agents.routeAccount("sms/unknown", toDepartment: nil, at: Self.now)  // nothing to clear: no error
            #expect(try await agents.departments().map(\.accounts) == [[], ["line/shop"]])
        }
    }

    @Test(arguments: StoreKind.available)
    func aRoutedAccountsNewTicketsOpenInItsDepartment(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            // A customer with a ticket open before the route keeps it where it is.
            for result in await stores.ingestStore.file([WebhookEvents(account: Self.line, events: [Self.text("e0", from: "U0")])], now: Self.now) {
                _ = try result.get()
            }
            let sales = try await stores.agentStore.createDepartment(name: "Sales", at: Self.now)
            try await stores.agentStore.routeAccount(Self.line.key, toDepartment: sales.id, at: Self.now)
            for result in await stores.ingestStore.file(
                [
                    WebhookEvents(account: Self.line, events: [Self.text("e1", from: "U1"), Self.text("e2", from: "U0")]),
                    WebhookEvents(account: Self.sms, events: [Self.text("e3", from: "+15550001")]),
                ], now: Self.now)
            {
                _ = try result.get()
            }
            let tickets = try await stores.sql.rows("""
                SELECT i.platform_user_id, t.department_id FROM tickets t JOIN identities i ON i.id = t.last_identity_id ORDER BY t.id
                """)
            #expect(tickets == [[.text("U0"), .null], [.text("U1"), .int(sales.id)], [.text("+15550001"), .null]])
        }
    }

    @Test(arguments: StoreKind.available)
    func aDepartmentsOwnHoursAreShownAndCanBeCleared(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            let sales = try await stores.agentStore.createDepartment(name: "Sales", at: Self.now)
            let standard = BusinessHours(timeZone: "UTC", weekly: ["mon": [["09:00", "17:00"]]])
            let own = BusinessHours(timeZone: "Asia/Tokyo", weekly: ["tue": [["10:00", "18:00"]]])
            try await stores.businessHoursStore.set(standard, department: nil, now: Self.now)
            #expect(try await stores.agentStore.departments().map(\.ownHours) == [false])
            try await stores.businessHoursStore.set(own, department: sales.id, now: Self.now)
            #expect(try await stores.agentStore.departments().map(\.ownHours) == [true])
            #expect(try await stores.businessHoursStore.clear(department: sales.id))
            #expect(try await stores.agentStore.departments().map(\.ownHours) == [false])
            #expect(try await stores.businessHoursStore.hours(department: sales.id) == standard)
            #expect(try await stores.businessHoursStore.clear(department: sales.id) == false)
            await #expect(throws: InboxError.notFound("department 99")) { _ = try await stores.businessHoursStore.clear(department: 99) }
            #expect(try await stores.businessHoursStore.hours(department: nil) == standard)
        }
    }
}
