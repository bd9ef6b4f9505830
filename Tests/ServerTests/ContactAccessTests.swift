@testable import BridgeServer
import Foundation
import GRDB
import PlatformStandIns
import Testing
@testable import UniversalInbox

/// The access policy reaches contacts, attachments and history links as it reaches tickets
/// (issue 13, point 2), and exports and attachments cannot attack whoever opens them (points 7, 12).
@Suite struct ContactAccessTests {
    /// Sam works Sales only; Bea is a billing customer, Ken a sales customer, Mia has one of each.
    struct Setup {
        var sam: BridgeAPI
        var ken: Int64, bea: Int64, mia: Int64
        var beaTicket: Int64, kenTicket: Int64
    }

    func setUp(_ t: TestBridge) async throws -> Setup {
        let api = t.api
        let sales = try await t.addDepartment("Sales")
        let billing = try await t.addDepartment("Billing")
        let sam = try await t.addAgent("Sam", departments: [sales])
        _ = try await api.updateAgent(sam.id, .init(departmentsOnly: true))
        let kenTicket = try await t.customerWrites("Uken00000000000000000000000000001", "I want to buy")
        let beaTicket = try await t.customerWrites("Ubea00000000000000000000000000001", "My invoice is wrong")
        let miaSales = try await t.customerWrites("Umia00000000000000000000000000001", "a question for sales")
        _ = try await t.customerWrites("Umia00000000000000000000000000001", "and one about my bill")
        _ = try await api.transfer(kenTicket, department: sales)
        _ = try await api.transfer(beaTicket, department: billing)
        _ = try await api.transfer(miaSales, department: sales)
        // Mia's second message becomes a billing ticket of its own.
        let second = try #require(try await api.messages(miaSales).last?.id)
        let miaBilling = try await api.split(miaSales, messages: [second]).id
        _ = try await api.transfer(miaBilling, department: billing)
        return Setup(
            sam: t.api(as: sam), ken: try await api.contactId(ofTicket: kenTicket), bea: try await api.contactId(ofTicket: beaTicket),
            mia: try await api.contactId(ofTicket: miaSales), beaTicket: beaTicket, kenTicket: kenTicket)
    }

    func snapshot(_ t: TestBridge) async throws -> String {
        try await t.bridge.inbox.database.pool.read { db in
            try ["contacts", "identities", "tickets", "messages", "contact_fields", "contact_tags", "outbox"].map { table in
                try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY 1, 2").description
            }.joined(separator: "\n")
        }
    }

    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func restrictedAgentCannotReachAnotherDepartmentsCustomer() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let s = try await setUp(t)
            let sam = s.sam
            let before = try await snapshot(t)
            let attempts: [(String, () async throws -> APIFailure)] = [
                ("read", { try await sam.failure(of: await sam.contact(s.bea)) }),
                ("change", { try await sam.failure(of: await sam.updateContact(s.bea, .init(displayName: "hijacked", email: "sam@evil.example"))) }),
                ("tag her", { try await sam.failure(of: await sam.updateContact(s.bea, .init(addTags: ["fraud"]))) }),
                ("absorb her identity", { try await sam.failure(of: await sam.link(s.ken, absorbing: s.bea)) }),
                ("be absorbed", { try await sam.failure(of: await sam.link(s.bea, absorbing: s.ken)) }),
                ("history link", { try await sam.failure(of: await sam.historyLink(s.bea)) }),
                ("mixed history link", { try await sam.failure(of: await sam.historyLink(s.mia)) }),
                ("message her", { try await sam.failure(of: await sam.message(contact: s.bea, .init(text: "hello"))) }),
            ]
            for (what, attempt) in attempts {
                let refused = try await attempt()
                #expect(refused.status == 403, "\(what): \(refused)")
                #expect(refused.code == "not_your_department", "\(what)")
                #expect(!refused.message.contains("assigned"), "\(what): \(refused.message)")
            }
            #expect(try await snapshot(t) == before)  // nothing changed, no ticket opened for outreach

            // Ken's only ticket is in the spam box: a message to him would open a ticket with no
            // department, which Sam could not answer, so none is opened.
            _ = try await t.api.markSpam(s.kenTicket)
            let spamBefore = try await snapshot(t)
            #expect(try await sam.failure(of: await sam.message(contact: s.ken, .init(text: "hello again"))).status == 403)
            #expect(try await snapshot(t) == spamBefore)
            _ = try await t.api.markSpam(s.kenTicket, false)

            // What Sam may reach stays reachable: his customer, and a customer with one sales ticket.
            _ = try await sam.contact(s.ken)
            _ = try await sam.contact(s.mia)
            _ = try await sam.updateContact(s.ken, .init(email: "ken@example.com"))
            _ = try await sam.historyLink(s.ken)
            // An unrestricted admin reaches everyone.
            _ = try await t.api.historyLink(s.bea)
        }
    }

    /// An agent who may answer only its own tickets (`answerAssignedOnly`, no department limit)
    /// reads a contact with two tickets, one of them its own: the contact's `ticketAccess` counts
    /// let the page apply the contact rules, and a refusal names the rule that refused.
    @Test func assignedOnlyAgentSeesTheCountsAndIsToldWhichRuleRefused() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let api = t.api
            let login = try await t.addAgent("Ann Assigned")
            let ann = t.api(as: login)
            _ = try await api.updateAgent(login.id, .init(answerAssignedOnly: true))
            let first = try await t.customerWrites("Uann00000000000000000000000000001", "first question")
            _ = try await t.customerWrites("Uann00000000000000000000000000001", "second question")
            let second = try #require(try await api.messages(first).last?.id)
            let mine = try await api.split(first, messages: [second]).id
            _ = try await api.transfer(mine, agent: login.id)
            let other = try await t.customerWrites("Uann00000000000000000000000000002", "someone else")
            let (customer, stranger) = (try await api.contactId(ofTicket: first), try await api.contactId(ofTicket: other))

            #expect(try await ann.contact(customer).ticketAccess == ContactTicketAccess(total: 2, readable: 2, answerable: 1))
            #expect(try await ann.contact(stranger).ticketAccess == ContactTicketAccess(total: 1, readable: 1, answerable: 0))
            #expect(try await api.contact(stranger).ticketAccess == ContactTicketAccess(total: 1, readable: 1, answerable: 1))

            // Linking the stranger in would move a ticket that is not hers: refused, saying so.
            let link = try await ann.failure(of: await ann.link(customer, absorbing: stranger))
            #expect(link.status == 403)
            #expect(link.code == "not_assigned_to_you")
            #expect(link.message == "you may answer only tickets assigned to you; contact \(stranger) has tickets that are not")
            // Her customer's first ticket is not hers either: absorbing the whole customer is refused the same way.
            let absorb = try await ann.failure(of: await ann.link(stranger, absorbing: customer))
            #expect(absorb.status == 403)
            #expect(absorb.code == "not_assigned_to_you", "\(absorb)")
            let merge = try await ann.failure(of: await ann.merge([first], into: mine))
            #expect(merge.status == 403)
            #expect(merge.code == "not_assigned_to_you")
        }
    }

    @Test func attachmentsFollowTheirTicketAndNeverRunInTheBrowser() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let s = try await setUp(t)
            // Bea sends a "picture" that is really an SVG with a script in it.
            let svg = #"<svg xmlns="http://www.w3.org/2000/svg"><script>fetch('/api/v1/agents')</script></svg>"#
            t.line.script("/v2/bot/message/468789577898262532/content", [PlatformStandIn.Reply(headers: ["content-type": "image/svg+xml"], body: Data(svg.utf8))])
            _ = try await t.postLINE(Payloads.lineImage("01SVG").replacingOccurrences(of: Payloads.lineUser, with: "Ubea00000000000000000000000000001"))
            var attachment: MessageDTO.Attachment?
            try await t.eventually("the file is stored") {
                attachment = try await t.api.messages(s.beaTicket).compactMap(\.attachments.first).first
                return attachment?.status == "stored"
            }
            let url = try #require(attachment?.url)
            // The file's bytes and headers: sent and read as they are.
            #expect(try await s.sam.raw(.GET, url).status == 403)
            let served = try await t.api.raw(.GET, url)
            #expect(served.status == 200)
            #expect(served.headers["content-type"].first == "application/octet-stream")
            #expect(served.headers["content-disposition"].first?.hasPrefix("attachment") == true)
            #expect(served.headers["x-content-type-options"].first == "nosniff")
            #expect(served.headers["content-security-policy"].first?.hasPrefix("sandbox") == true)
        }
    }

    @Test func attachmentHeadersShowOnlySafeRasterImagesInline() {
        for (type, inline) in [("image/png", true), ("image/jpeg; charset=x", true), ("IMAGE/WEBP", true), ("image/svg+xml", false), ("text/html", false),
                               ("application/pdf", false), ("text/xml", false), (nil, false)] as [(String?, Bool)] {
            let fields = AttachmentHeaders.headers(mimeType: type, fileName: "a\"b\r\n.png", id: 7)
            #expect(fields[.contentDisposition]?.hasPrefix(inline ? "inline" : "attachment") == true, "\(type ?? "nil")")
            #expect((fields[.contentType] == "application/octet-stream") == !inline, "\(type ?? "nil")")
            #expect(fields[.contentDisposition]?.hasSuffix(#"filename="ab.png""#) == true)
            #expect(fields[.xContentTypeOptions] == "nosniff")
        }
    }

    @Test func exportKeepsAHostileNameInItsCell() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let api = t.api
            let ticket = try await t.customerWrites("Umallory000000000000000000000001", "hi")
            _ = try await api.updateContact(try await api.contactId(ofTicket: ticket), .init(displayName: "Mallory\r\n=2+5"))
            _ = try await t.customerWrites("Uother00000000000000000000000001", "hello")
            // The file as a spreadsheet reads it: its bytes.
            let rows = Self.parseCSV(try await api.raw(.GET, "/api/v1/tickets/export.csv").text)
            #expect(rows.count == 3, "\(rows)")  // the header and two tickets: no row broken out
            #expect(rows.allSatisfy { $0.count == rows[0].count })
            let names = rows.dropFirst().map { $0[4] }
            #expect(names.contains("Mallory\r\n=2+5"))
            #expect(!rows.contains { $0.first?.hasPrefix("=") == true })
            #expect(CSV.cell("=2+5") == "'=2+5")
            // A quote a combining mark joins is still a quote: doubled, so the cell stays one cell.
            let sneaky = "a\"\u{301},=2+5,\"\u{301}b"
            #expect(Self.parseCSV(CSV.row([sneaky, "next"])) == [[sneaky, "next"]])
            #expect(CSV.cell("\r\n=1") == "\"'\r\n=1\"")
        }
    }

    @Test func transcriptsEscapeEveryScalarAndRunNothing() async throws {
        #expect(!TranscriptHTML.escape("\u{600}<img src=x onerror=alert(1)>").contains("<"))
        try await TestBridge.with(standIns: [.line]) { t in
            let ticket = try await t.customerWrites("Uxss0000000000000000000000000001", "\u{600}<img src=x onerror=alert(1)>")
            // The page and its headers: as they are.
            let page = try await t.api.raw(.GET, "/api/v1/tickets/\(ticket)/transcript")
            #expect(page.status == 200)
            #expect(!page.text.contains("<img"))
            #expect(page.headers["content-security-policy"].first?.hasPrefix("default-src 'none'") == true)
            #expect(page.headers["x-content-type-options"].first == "nosniff")
        }
    }

    /// RFC 4180, as a spreadsheet reads it: quoted cells may hold commas and line breaks.
    static func parseCSV(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], cell = "", quoted = false
        var scalars = Array(text.unicodeScalars)[...]
        while let c = scalars.popFirst() {
            if quoted {
                if c == "\"" {
                    if scalars.first == "\"" { cell.unicodeScalars.append("\""); scalars.removeFirst() } else { quoted = false }
                } else { cell.unicodeScalars.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { row.append(cell); cell = "" }
            else if c == "\r" || c == "\n" {
                if c == "\r", scalars.first == "\n" { scalars.removeFirst() }
                row.append(cell); rows.append(row); row = []; cell = ""
            } else { cell.unicodeScalars.append(c) }
        }
        if !cell.isEmpty || !row.isEmpty { row.append(cell); rows.append(row) }
        return rows
    }
}
