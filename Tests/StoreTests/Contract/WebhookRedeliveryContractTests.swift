import Foundation
import Testing
import UniversalInbox

/// `OutgoingWebhookStore.delivery(id:webhookId:)`, what a redelivery copies: a delivery's event and
/// body as queued, only under its own webhook.
@Suite struct WebhookRedeliveryContractTests {
    @Test(arguments: StoreKind.available)
    func aDeliveryIsReadBackUnderItsOwnWebhookOnly(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let hooks = stores.webhookStore
            let now = Date(ms: 1_000_000)
            let crm = try await hooks.create(url: "https://crm.example.com/hook", secret: "whsec_0123456789abcdef", events: ["*"], now: now)
            let audit = try await hooks.create(url: "https://audit.example.com/in", secret: "another-secret-value", events: ["*"], now: now)
            let queued = NewWebhookDelivery(webhookId: crm, event: "rule.fired", payload: #"{"event":"rule.fired","n":1}"#)
            try await hooks.queue(queued, now: now)
            let id = try #require(try await hooks.deliveries(webhookId: crm, limit: 10)?.first?.id)
            #expect(try await hooks.delivery(id: id, webhookId: crm) == queued)
            #expect(try await hooks.delivery(id: id, webhookId: audit) == nil)
            #expect(try await hooks.delivery(id: id + 1000, webhookId: crm) == nil)
            // The copy is a new delivery with the same event and body.
            try await hooks.queue(try #require(try await hooks.delivery(id: id, webhookId: crm)), now: now)
            let both = try #require(try await hooks.deliveries(webhookId: crm, limit: 10))
            #expect(both.count == 2)
            #expect(Set(both.map(\.id)).count == 2)
        }
    }
}
