import Foundation
import Testing
import UniversalInbox

/// `ContactStore` as every implementation must keep it: an update is all or nothing; tags and field
/// values are added, replaced and removed; a link keeps everything known about the absorbed contact
/// and moves its identities and tickets; two processes linking one pair at once cannot both win.
@Suite struct ContactContractTests {
    /// Kim (contact 1: LINE, ticket 1, tag vip, tier gold) and Lee (contact 2: WhatsApp, ticket 2,
    /// e-mail, tags vip and wholesale, tier silver, city Osaka); contact fields tier (1) and city (2).
    static let fixture = [
        "INSERT INTO contacts (id, display_name, email, created_at, updated_at) VALUES (1, 'Kim', NULL, 1, 1), (2, 'Lee', 'lee@example.com', 1, 1)",
        """
        INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at)
        VALUES (1, 1, 'line/main', 'line', 'U1', 1), (2, 2, 'whatsapp/main', 'whatsapp', '15550002', 1)
        """,
        "INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at) VALUES (1, 1, 'open', 1, 1, 1), (2, 2, 'open', 2, 1, 1)",
        """
        INSERT INTO custom_fields (id, scope, key, label, type, options, created_at)
        VALUES (1, 'contact', 'tier', 'Tier', 'text', NULL, 1), (2, 'contact', 'city', 'City', 'text', NULL, 1)
        """,
        "INSERT INTO contact_tags (contact_id, tag) VALUES (1, 'vip'), (2, 'vip'), (2, 'wholesale')",
        "INSERT INTO contact_fields (contact_id, field_id, value) VALUES (1, 1, 'gold'), (2, 1, 'silver'), (2, 2, 'Osaka')",
    ]

    static func tags(_ stores: Stores, _ contactId: Int64) async throws -> [String] {
        try await stores.sql.rows("SELECT tag FROM contact_tags WHERE contact_id = \(contactId) ORDER BY tag").compactMap { $0[0].text }
    }

    static func fields(_ stores: Stores, _ contactId: Int64) async throws -> [Int64: String] {
        Dictionary(uniqueKeysWithValues: try await stores.sql.rows("SELECT field_id, value FROM contact_fields WHERE contact_id = \(contactId)").map {
            ($0[0].int ?? 0, $0[1].text ?? "")
        })
    }

    static func contact(_ stores: Stores, _ id: Int64) async throws -> [PlainSQL.Value]? {
        try await stores.sql.rows("SELECT display_name, email, updated_at FROM contacts WHERE id = \(id)").first
    }

    @Test(arguments: StoreKind.available)
    func anUpdateIsAllOrNothing(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            try await stores.contactStore.update(
                contactId: 1, ContactUpdate(displayName: "Kim Lee", email: .some("kim@example.com"), fields: [2: "Kyoto"], addTags: ["gold"]),
                at: Date(ms: 5_000))
            #expect(try await Self.contact(stores, 1) == [.text("Kim Lee"), .text("kim@example.com"), .int(5_000)])
            // A field that does not exist fails the whole update: the name, e-mail, tags and other field stay.
            await #expect(throws: (any Error).self) {
                try await stores.contactStore.update(
                    contactId: 1, ContactUpdate(displayName: "Nobody", email: .some(nil), fields: [1: "bronze", 999: "x"], addTags: ["lost"], removeTags: ["vip"]),
                    at: Date(ms: 6_000))
            }
            #expect(try await Self.contact(stores, 1) == [.text("Kim Lee"), .text("kim@example.com"), .int(5_000)])
            #expect(try await Self.tags(stores, 1) == ["gold", "vip"])
            #expect(try await Self.fields(stores, 1) == [1: "gold", 2: "Kyoto"])
            // A contact that is not there: notFound, and nothing is written for it.
            await #expect(throws: InboxError.notFound("contact 3")) {
                try await stores.contactStore.update(contactId: 3, ContactUpdate(addTags: ["ghost"]), at: Date(ms: 7_000))
            }
            #expect(try await stores.sql.rows("SELECT tag FROM contact_tags WHERE tag = 'ghost'").isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func tagsAreAddedAndRemoved(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            try await stores.contactStore.update(contactId: 1, ContactUpdate(addTags: ["wholesale", "vip"]), at: Date(ms: 2_000))
            #expect(try await Self.tags(stores, 1) == ["vip", "wholesale"])
            try await stores.contactStore.update(contactId: 1, ContactUpdate(removeTags: ["vip", "never"]), at: Date(ms: 3_000))
            #expect(try await Self.tags(stores, 1) == ["wholesale"])
            // Added and removed at once: removed.
            try await stores.contactStore.update(contactId: 1, ContactUpdate(addTags: ["late"], removeTags: ["late"]), at: Date(ms: 4_000))
            #expect(try await Self.tags(stores, 1) == ["wholesale"])
            // Another contact's tags are its own.
            #expect(try await Self.tags(stores, 2) == ["vip", "wholesale"])
        }
    }

    @Test(arguments: StoreKind.available)
    func fieldValuesAreSetReplacedAndCleared(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            try await stores.contactStore.update(contactId: 1, ContactUpdate(fields: [1: "platinum", 2: "Nara"]), at: Date(ms: 2_000))
            #expect(try await Self.fields(stores, 1) == [1: "platinum", 2: "Nara"])
            try await stores.contactStore.update(contactId: 1, ContactUpdate(fields: [2: String?.none]), at: Date(ms: 3_000))
            #expect(try await Self.fields(stores, 1) == [1: "platinum"])
            #expect(try await Self.fields(stores, 2) == [1: "silver", 2: "Osaka"])
        }
    }

    @Test(arguments: StoreKind.available)
    func aLinkKeepsWhatTheAbsorbedContactKnewAndMovesItsIdentitiesAndTickets(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            try await stores.contactStore.link(1, absorbing: 2, at: Date(ms: 9_000))
            #expect(try await Self.contact(stores, 2) == nil)
            // Kim's name and tier stay; Lee's e-mail, city and wholesale tag join.
            #expect(try await Self.contact(stores, 1) == [.text("Kim"), .text("lee@example.com"), .int(9_000)])
            #expect(try await Self.tags(stores, 1) == ["vip", "wholesale"])
            #expect(try await Self.fields(stores, 1) == [1: "gold", 2: "Osaka"])
            #expect(try await stores.sql.rows("SELECT id, contact_id FROM identities ORDER BY id") == [[.int(1), .int(1)], [.int(2), .int(1)]])
            #expect(try await stores.sql.rows("SELECT id, contact_id FROM tickets ORDER BY id") == [[.int(1), .int(1)], [.int(2), .int(1)]])
            // Either contact missing: notFound, and nothing moves.
            await #expect(throws: InboxError.notFound("contact 2")) { try await stores.contactStore.link(1, absorbing: 2, at: Date(ms: 10_000)) }
            await #expect(throws: InboxError.notFound("contact 2")) { try await stores.contactStore.link(2, absorbing: 1, at: Date(ms: 10_000)) }
            #expect(try await Self.contact(stores, 1) == [.text("Kim"), .text("lee@example.com"), .int(9_000)])
        }
    }

    /// Two processes linking one pair in opposite directions at once: one link wins, the other finds
    /// its contact gone (`notFound`); the survivor has both identities and tickets, and no deadlock.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func twoProcessesLinkingOnePairAtOnceLinkItOnce() async throws {
        try await Stores.withPostgresProcesses(2) { processes throws in
            for round in Int64(0)..<5 {
                let (a, b) = (100 + 2 * round, 101 + 2 * round)
                try await processes[0].sql.execute("INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (\(a), 'A', 1, 1), (\(b), 'B', 1, 1)")
                try await processes[0].sql.execute("""
                    INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at)
                    VALUES (\(a), \(a), 'line/main', 'line', 'U\(a)', 1), (\(b), \(b), 'line/main', 'line', 'U\(b)', 1)
                    """)
                try await processes[0].sql.execute("INSERT INTO contact_tags (contact_id, tag) VALUES (\(a), 'a'), (\(b), 'b')")
                let results = await withTaskGroup(of: Result<Int64, InboxError>?.self) { group in
                    for (process, (keep, absorb)) in zip(processes, [(a, b), (b, a)]) {
                        group.addTask {
                            do {
                                try await process.contactStore.link(keep, absorbing: absorb, at: Date(ms: 5))
                                return .success(keep)
                            } catch let error as InboxError {
                                return .failure(error)
                            } catch {
                                return nil
                            }
                        }
                    }
                    return await group.reduce(into: [Result<Int64, InboxError>?]()) { $0.append($1) }
                }
                let winners = results.compactMap { if case .success(let id)? = $0 { id } else { nil } }
                #expect(winners.count == 1)
                #expect(results.filter { if case .failure(.notFound)? = $0 { true } else { false } }.count == 1)
                guard let survivor = winners.first else { continue }
                #expect(try await processes[1].sql.rows("SELECT id FROM contacts WHERE id IN (\(a), \(b))") == [[.int(survivor)]])
                #expect(try await processes[1].sql.rows("SELECT DISTINCT contact_id FROM identities WHERE id IN (\(a), \(b))") == [[.int(survivor)]])
                #expect(try await Self.tags(processes[1], survivor) == ["a", "b"])
            }
        }
    }

    /// One process tagging a contact while another links it away: the tag either reaches the
    /// surviving contact or the update finds its contact gone (`notFound`); it is never lost.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func aTagAddedWhileTheContactIsLinkedAwayIsNeverLost() async throws {
        try await Stores.withPostgresProcesses(2) { processes throws in
            for round in Int64(0)..<5 {
                let (a, b) = (200 + 2 * round, 201 + 2 * round)
                try await processes[0].sql.execute("INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (\(a), 'A', 1, 1), (\(b), 'B', 1, 1)")
                async let linked: Void = processes[0].contactStore.link(a, absorbing: b, at: Date(ms: 5))
                let tagged: Result<Void, InboxError>
                do {
                    try await processes[1].contactStore.update(contactId: b, ContactUpdate(addTags: ["late"]), at: Date(ms: 5))
                    tagged = .success(())
                } catch let error as InboxError {
                    tagged = .failure(error)
                }
                try await linked
                switch tagged {
                case .success: #expect(try await Self.tags(processes[1], a) == ["late"])
                case .failure(let error): #expect(error == .notFound("contact \(b)"))
                }
            }
        }
    }
}
