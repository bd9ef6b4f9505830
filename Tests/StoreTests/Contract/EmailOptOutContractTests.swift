import Foundation
import Testing
import UniversalInbox

/// The e-mail opt-out list as every `CampaignStore` must keep it: one entry per address (adding
/// again changes nothing and says so), listed in address order in pages, removable; one key for
/// unsubscribe links per database (the first candidate wins); and a campaign's start and preview
/// skip a recipient they would e-mail at a listed address, whatever its case, as `unsubscribed`,
/// but not one who goes on another channel.
@Suite struct EmailOptOutContractTests {
    private static func at(_ ms: Int64) -> Date { Date(ms: ms) }

    @Test(arguments: StoreKind.available)
    func theListKeepsOneEntryPerAddress(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let store = stores.campaignStore
            let ann = EmailOptOut(address: "ann@example.com", source: EmailOptOut.linkSource, createdBy: nil, createdAt: Self.at(10))
            #expect(try await store.addOptOut(ann))
            let again = EmailOptOut(address: "ann@example.com", source: EmailOptOut.consoleSource, createdBy: "agent:1", createdAt: Self.at(20))
            #expect(try await store.addOptOut(again) == false)
            #expect(try await store.optOut(address: "ann@example.com") == ann)
            #expect(try await store.optOut(address: "bob@example.com") == nil)
            for name in ["cid", "bob"] {
                let entry = EmailOptOut(address: "\(name)@example.com", source: EmailOptOut.consoleSource, createdBy: "agent:1", createdAt: Self.at(30))
                #expect(try await store.addOptOut(entry))
            }
            #expect(try await store.optOuts(after: nil, limit: 10).map(\.address) == ["ann@example.com", "bob@example.com", "cid@example.com"])
            #expect(try await store.optOuts(after: "ann@example.com", limit: 1).map(\.address) == ["bob@example.com"])
            #expect(try await store.optOuts(after: nil, limit: 10)[1].createdBy == "agent:1")
            #expect(try await store.removeOptOut(address: "bob@example.com"))
            #expect(try await store.removeOptOut(address: "bob@example.com") == false)
            #expect(try await store.optOuts(after: nil, limit: 10).map(\.address) == ["ann@example.com", "cid@example.com"])
        }
    }

    @Test(arguments: StoreKind.available)
    func oneUnsubscribeKeyPerDatabase(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let first = Data(repeating: 1, count: 32)
            #expect(try await stores.campaignStore.unsubscribeKey(candidate: first) == first)
            #expect(try await stores.campaignStore.unsubscribeKey(candidate: Data(repeating: 2, count: 32)) == first)
        }
    }

    /// Kim (`kim@example.com`, listed as `KIM@example.com` was) goes by e-mail on an e-mail campaign:
    /// skipped as `unsubscribed`. On "last used" she goes by WhatsApp, which the list does not touch.
    @Test(arguments: StoreKind.available)
    func startsAndPreviewsSkipListedAddresses(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in CampaignContractTests.fixture { try await stores.sql.execute(sql) }
            try await stores.sql.execute("INSERT INTO contacts (id, display_name, email, created_at, updated_at) VALUES (5, 'Oda', 'oda@example.com', 1, 1)")
            try await stores.sql.execute("UPDATE contacts SET email = 'Kim@Example.com' WHERE id = 1")
            let store = stores.campaignStore
            let kim = EmailOptOut(address: "kim@example.com", source: EmailOptOut.linkSource, createdBy: nil, createdAt: Self.at(1))
            #expect(try await store.addOptOut(kim))
            let audience = CampaignContractTests.audience(contactIds: [1, 5])

            let found = try await store.preview(audience: audience, channel: "email", now: Self.at(5))
            #expect(found.count == 2)
            #expect(found.first == .skipped(channel: "email", reason: Inbox.unsubscribedReason))
            guard case .recipient(let oda) = found.last else {
                Issue.record("expected Oda as a recipient, got \(found)")
                return
            }
            #expect(oda.contactId == 5 && oda.platformUserId == "oda@example.com")

            let id = try await CampaignContractTests.started(store, audience, channel: "email")
            #expect(
                try await CampaignContractTests.recipients(store, id).map { "\($0.contact) \($0.channel ?? "-") \($0.status) \($0.reason ?? "")" }
                    == ["1 email skipped unsubscribed", "5 email pending "])
            let report = try #require(try await store.report(id: id))
            #expect(report.reasons.map { "\($0.status) \($0.reason) \($0.count)" } == ["skipped unsubscribed 1"])

            // On each contact's last used channel Kim goes by WhatsApp: the e-mail list does not apply.
            let lastUsed = try await CampaignContractTests.started(store, audience)
            #expect(
                try await CampaignContractTests.recipients(store, lastUsed).map { "\($0.contact) \($0.channel ?? "-") \($0.status)" }
                    == ["1 whatsapp pending", "5 email pending"])
        }
    }

    /// Between a campaign's start and its sends: Kim unsubscribes and Oda's address is removed.
    /// The claim skips both (`unsubscribed`, no address) in its own transaction rather than leave
    /// them `sending`, and the campaign then completes.
    @Test(arguments: StoreKind.available)
    func aClaimSkipsAnAddressListedOrRemovedSinceTheStart(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in CampaignContractTests.fixture { try await stores.sql.execute(sql) }
            try await stores.sql.execute("INSERT INTO contacts (id, display_name, email, created_at, updated_at) VALUES (5, 'Oda', 'oda@example.com', 1, 1)")
            try await stores.sql.execute("INSERT INTO contacts (id, display_name, email, created_at, updated_at) VALUES (6, 'Pia', 'pia@example.com', 1, 1)")
            try await stores.sql.execute("UPDATE contacts SET email = 'Kim@Example.com' WHERE id = 1")
            // Élodie's address has a letter beyond ASCII: the list's key and both databases' lowering agree on it.
            try await stores.sql.execute("INSERT INTO contacts (id, display_name, email, created_at, updated_at) VALUES (7, 'Élodie', 'Élodie@Exemple.fr', 1, 1)")
            let store = stores.campaignStore
            let elodie = EmailOptOut(address: try Inbox.optOutAddress("Élodie@Exemple.fr"), source: EmailOptOut.consoleSource, createdBy: nil, createdAt: Self.at(1))
            #expect(elodie.address == "Élodie@exemple.fr")
            #expect(try await store.addOptOut(elodie))
            let id = try await CampaignContractTests.started(store, CampaignContractTests.audience(contactIds: [1, 5, 6, 7]), channel: "email")
            #expect(try await CampaignContractTests.recipients(store, id).last?.description == "7 email skipped unsubscribed")
            try await stores.sql.execute("DELETE FROM campaign_recipients WHERE contact_id = 7")
            #expect(try await CampaignContractTests.recipients(store, id).map(\.status) == ["pending", "pending", "pending"])

            let kim = EmailOptOut(address: "kim@example.com", source: EmailOptOut.linkSource, createdBy: nil, createdAt: Self.at(2))
            #expect(try await store.addOptOut(kim))
            try await stores.sql.execute("UPDATE contacts SET email = NULL WHERE id = 5")
            let claimed = try await store.claimRecipients(campaignId: id, limit: 10, holder: "a", now: Self.at(3))
            #expect(claimed.map(\.platformUserId) == ["pia@example.com"])
            #expect(
                try await CampaignContractTests.recipients(store, id).map(\.description)
                    == ["1 email skipped unsubscribed", "5 email skipped \(PreviewedRecipient.noAddress)", "6 email sending "])
            try await store.recordOutcomes([(claimed[0].id, .sent(platformMessageId: "m1"))], holder: "a", now: Self.at(4))
            #expect(try await store.claimRecipients(campaignId: id, limit: 10, holder: "a", now: Self.at(5)).isEmpty)
            #expect(try await store.campaign(id: id)?.status == .completed)
        }
    }
}
