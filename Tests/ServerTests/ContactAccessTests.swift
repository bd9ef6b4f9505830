@testable import BridgeServer
import Foundation
import GRDB
import PlatformStandIns
import Testing

/// The access policy reaches contacts, attachments and history links as it reaches tickets
/// (issue 13, point 2), and exports and attachments cannot attack whoever opens them (points 7, 12).
@Suite struct ContactAccessTests {
    /// Sam works Sales only; Bea is a billing customer, Ken a sales customer, Mia has one of each.
    struct Setup {
        var sam: TestBridge.AgentLogin
        var ken: Int, bea: Int, mia: Int
        var beaTicket: Int, kenTicket: Int
    }

    func setUp(_ t: TestBridge) async throws -> Setup {
        let sales = try await t.addDepartment("Sales")
        let billing = try await t.addDepartment("Billing")
        let sam = try await t.addAgent("Sam", departments: [sales])
        #expect(try await t.patchJSON("/api/v1/agents/\(sam.id)", #"{"departmentsOnly":true}"#).status == 200)
        let kenTicket = try await t.customerWrites("Uken00000000000000000000000000001", "I want to buy")
        let beaTicket = try await t.customerWrites("Ubea00000000000000000000000000001", "My invoice is wrong")
        let miaSales = try await t.customerWrites("Umia00000000000000000000000000001", "a question for sales")
        _ = try await t.customerWrites("Umia00000000000000000000000000001", "and one about my bill")
        _ = try await t.postJSON("/api/v1/tickets/\(kenTicket)/transfer", #"{"departmentId":\#(sales)}"#)
        _ = try await t.postJSON("/api/v1/tickets/\(beaTicket)/transfer", #"{"departmentId":\#(billing)}"#)
        _ = try await t.postJSON("/api/v1/tickets/\(miaSales)/transfer", #"{"departmentId":\#(sales)}"#)
        // Mia's second message becomes a billing ticket of its own.
        let second = try #require(try await t.messages(ticket: miaSales).last?["id"] as? Int)
        let miaBilling = try #require(try await t.postJSON("/api/v1/tickets/\(miaSales)/split", #"{"messageIds":[\#(second)]}"#).json["id"] as? Int)
        _ = try await t.postJSON("/api/v1/tickets/\(miaBilling)/transfer", #"{"departmentId":\#(billing)}"#)
        func contact(_ ticket: Int) async throws -> Int { try #require((try await t.get("/api/v1/tickets/\(ticket)").json["contact"] as? [String: Any])?["id"] as? Int) }
        return Setup(
            sam: sam, ken: try await contact(kenTicket), bea: try await contact(beaTicket), mia: try await contact(miaSales), beaTicket: beaTicket,
            kenTicket: kenTicket)
    }

    func snapshot(_ t: TestBridge) async throws -> String {
        try await t.bridge.inbox.database.pool.read { db in
            try ["contacts", "identities", "tickets", "messages", "contact_fields", "contact_tags", "outbox"].map { table in
                try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY 1, 2").description
            }.joined(separator: "\n")
        }
    }

    @Test func restrictedAgentCannotReachAnotherDepartmentsCustomer() async throws {
        try await TestBridge.with { t in
            let s = try await setUp(t)
            let before = try await snapshot(t)
            let attempts: [(String, () async throws -> TestBridge.Reply)] = [
                ("read", { try await t.get("/api/v1/contacts/\(s.bea)", token: s.sam.token) }),
                ("change", { try await t.patchJSON("/api/v1/contacts/\(s.bea)", #"{"displayName":"hijacked","email":"sam@evil.example"}"#, token: s.sam.token) }),
                ("tag her", { try await t.patchJSON("/api/v1/contacts/\(s.bea)", #"{"addTags":["fraud"]}"#, token: s.sam.token) }),
                ("absorb her identity", { try await t.postJSON("/api/v1/contacts/\(s.ken)/links", #"{"contactId":\#(s.bea)}"#, token: s.sam.token) }),
                ("be absorbed", { try await t.postJSON("/api/v1/contacts/\(s.bea)/links", #"{"contactId":\#(s.ken)}"#, token: s.sam.token) }),
                ("history link", { try await t.postJSON("/api/v1/contacts/\(s.bea)/history-link", "{}", token: s.sam.token) }),
                ("mixed history link", { try await t.postJSON("/api/v1/contacts/\(s.mia)/history-link", "{}", token: s.sam.token) }),
                ("message her", { try await t.postJSON("/api/v1/contacts/\(s.bea)/messages", #"{"text":"hello"}"#, token: s.sam.token) }),
            ]
            for (what, attempt) in attempts {
                let reply = try await attempt()
                #expect(reply.status == 403, "\(what): \(reply.status) \(reply.text)")
                #expect(reply.errorCode == "not_your_department", "\(what)")
                #expect(reply.errorMessage?.contains("assigned") == false, "\(what): \(reply.errorMessage ?? "")")
            }
            #expect(try await snapshot(t) == before)  // nothing changed, no ticket opened for outreach

            // Ken's only ticket is in the spam box: a message to him would open a ticket with no
            // department, which Sam could not answer, so none is opened.
            _ = try await t.postJSON("/api/v1/tickets/\(s.kenTicket)/spam", "{}")
            let spamBefore = try await snapshot(t)
            let outreach = try await t.postJSON("/api/v1/contacts/\(s.ken)/messages", #"{"text":"hello again"}"#, token: s.sam.token)
            #expect(outreach.status == 403)
            #expect(try await snapshot(t) == spamBefore)
            _ = try await t.request(.DELETE, "/api/v1/tickets/\(s.kenTicket)/spam")

            // What Sam may reach stays reachable: his customer, and a customer with one sales ticket.
            #expect(try await t.get("/api/v1/contacts/\(s.ken)", token: s.sam.token).status == 200)
            #expect(try await t.get("/api/v1/contacts/\(s.mia)", token: s.sam.token).status == 200)
            #expect(try await t.patchJSON("/api/v1/contacts/\(s.ken)", #"{"email":"ken@example.com"}"#, token: s.sam.token).status == 200)
            #expect(try await t.postJSON("/api/v1/contacts/\(s.ken)/history-link", "{}", token: s.sam.token).status == 201)
            // An unrestricted admin reaches everyone.
            #expect(try await t.postJSON("/api/v1/contacts/\(s.bea)/history-link", "{}").status == 201)
        }
    }

    /// An agent who may answer only its own tickets (`answerAssignedOnly`, no department limit)
    /// reads a contact with two tickets, one of them its own: the contact's `ticketAccess` counts
    /// let the page apply the contact rules, and a refusal names the rule that refused.
    @Test func assignedOnlyAgentSeesTheCountsAndIsToldWhichRuleRefused() async throws {
        try await TestBridge.with { t in
            let ann = try await t.addAgent("Ann Assigned")
            #expect(try await t.patchJSON("/api/v1/agents/\(ann.id)", #"{"answerAssignedOnly":true}"#).status == 200)
            let first = try await t.customerWrites("Uann00000000000000000000000000001", "first question")
            _ = try await t.customerWrites("Uann00000000000000000000000000001", "second question")
            let second = try #require(try await t.messages(ticket: first).last?["id"] as? Int)
            let mine = try #require(try await t.postJSON("/api/v1/tickets/\(first)/split", #"{"messageIds":[\#(second)]}"#).json["id"] as? Int)
            #expect(try await t.postJSON("/api/v1/tickets/\(mine)/transfer", #"{"agentId":\#(ann.id)}"#).status == 200)
            let other = try await t.customerWrites("Uann00000000000000000000000000002", "someone else")
            func contact(_ ticket: Int) async throws -> Int { try #require((try await t.get("/api/v1/tickets/\(ticket)").json["contact"] as? [String: Any])?["id"] as? Int) }
            let (customer, stranger) = (try await contact(first), try await contact(other))

            let counts = try await t.get("/api/v1/contacts/\(customer)", token: ann.token).json["ticketAccess"] as? [String: Int]
            #expect(counts == ["total": 2, "readable": 2, "answerable": 1])
            #expect(try await t.get("/api/v1/contacts/\(stranger)", token: ann.token).json["ticketAccess"] as? [String: Int]
                == ["total": 1, "readable": 1, "answerable": 0])
            #expect(try await t.get("/api/v1/contacts/\(stranger)").json["ticketAccess"] as? [String: Int] == ["total": 1, "readable": 1, "answerable": 1])

            // Linking the stranger in would move a ticket that is not hers: refused, saying so.
            let link = try await t.postJSON("/api/v1/contacts/\(customer)/links", #"{"contactId":\#(stranger)}"#, token: ann.token)
            #expect(link.status == 403)
            #expect(link.errorCode == "not_assigned_to_you")
            #expect(link.errorMessage == "you may answer only tickets assigned to you; contact \(stranger) has tickets that are not")
            // Her customer's first ticket is not hers either: absorbing the whole customer is refused the same way.
            let absorb = try await t.postJSON("/api/v1/contacts/\(stranger)/links", #"{"contactId":\#(customer)}"#, token: ann.token)
            #expect(absorb.status == 403)
            #expect(absorb.errorCode == "not_assigned_to_you", "\(absorb.text)")
            let merge = try await t.postJSON("/api/v1/tickets/\(mine)/merge", #"{"ticketIds":[\#(first)]}"#, token: ann.token)
            #expect(merge.status == 403)
            #expect(merge.errorCode == "not_assigned_to_you")
        }
    }

    @Test func attachmentsFollowTheirTicketAndNeverRunInTheBrowser() async throws {
        try await TestBridge.with { t in
            let s = try await setUp(t)
            // Bea sends a "picture" that is really an SVG with a script in it.
            let svg = #"<svg xmlns="http://www.w3.org/2000/svg"><script>fetch('/api/v1/agents')</script></svg>"#
            t.line.script("/v2/bot/message/468789577898262532/content", [PlatformStandIn.Reply(headers: ["content-type": "image/svg+xml"], body: Data(svg.utf8))])
            _ = try await t.postLINE(Payloads.lineImage("01SVG").replacingOccurrences(of: Payloads.lineUser, with: "Ubea00000000000000000000000000001"))
            var attachment: [String: Any] = [:]
            try await t.eventually("the file is stored") {
                attachment = try await t.messages(ticket: s.beaTicket).compactMap { ($0["attachments"] as? [[String: Any]])?.first }.first ?? [:]
                return attachment["status"] as? String == "stored"
            }
            let url = try #require(attachment["url"] as? String)
            #expect(try await t.get(url, token: s.sam.token).status == 403)
            let served = try await t.get(url)
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
        try await TestBridge.with { t in
            let ticket = try await t.customerWrites("Umallory000000000000000000000001", "hi")
            let contact = try #require((try await t.get("/api/v1/tickets/\(ticket)").json["contact"] as? [String: Any])?["id"] as? Int)
            #expect(try await t.patchJSON("/api/v1/contacts/\(contact)", #"{"displayName":"Mallory\r\n=2+5"}"#).status == 200)
            _ = try await t.customerWrites("Uother00000000000000000000000001", "hello")
            let rows = Self.parseCSV(try await t.get("/api/v1/tickets/export.csv").text)
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
        try await TestBridge.with { t in
            let ticket = try await t.customerWrites("Uxss0000000000000000000000000001", "\u{600}<img src=x onerror=alert(1)>")
            let page = try await t.get("/api/v1/tickets/\(ticket)/transcript")
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
