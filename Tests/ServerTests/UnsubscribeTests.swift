@testable import BridgeServer
import ChannelKit
import Email
import Foundation
import Testing

/// One-click unsubscribe (RFC 8058) against the real SMTP test server: campaign mail carries
/// `List-Unsubscribe` and `List-Unsubscribe-Post`, the link's POST puts the address on the
/// opt-out list, and the next campaign (and its preview) skips it as `unsubscribed`.
@Suite struct UnsubscribeTests {
    /// Three contacts from LINE; 1 and 2 get e-mail addresses (2's in another case than the link's).
    static func contactsWithAddresses(_ t: TestBridge) async throws {
        _ = try await t.postLINE(CampaignTests.lineTexts((1...3).map(CampaignTests.user)))
        try await t.eventually("three contacts") { try await t.get("/api/v1/contacts/3").status == 200 }
        #expect(try await t.patchJSON("/api/v1/contacts/1", #"{"email":"kenji@example.jp"}"#).status == 200)
        #expect(try await t.patchJSON("/api/v1/contacts/2", #"{"email":"Ann@Example.com"}"#).status == 200)
        #expect(try await t.patchJSON("/api/v1/contacts/3", #"{"email":"max@example.com"}"#).status == 200)
    }

    /// Starts an e-mail campaign to contacts 1-3 and waits until it completes.
    static func campaign(_ t: TestBridge, _ name: String) async throws -> Int {
        let created = try await t.postJSON("/api/v1/campaigns", """
            {"name":"\(name)","audience":{"contactIds":[1,2,3]},"channel":"email","content":{"text":"The \(name) starts today."},"start":true}
            """)
        #expect(created.status == 201, "\(created.text)")
        let id = try #require(created.json["id"] as? Int)
        try await t.eventually("campaign \(id) completed", timeout: .seconds(20)) {
            try await t.get("/api/v1/campaigns/\(id)").json["status"] as? String == "completed"
        }
        return id
    }

    static func path(ofLink link: String) -> String {
        String(link.dropFirst(TestBridge.publicBaseURL.count))
    }

    @Test func theUnsubscribeLinkRemovesTheAddressFromTheNextCampaign() async throws {
        let server = try SMTPTestServer()
        defer { server.stop() }
        try await TestBridge.with(standIns: [.line], configure: { $0.email = server.settings(from: "Shop <news@example.com>") }) { t in
            try await Self.contactsWithAddresses(t)
            _ = try await Self.campaign(t, "Winter sale")
            let first = try server.received()
            try #require(first.count == 3)
            let toAnn = try #require(first.first { $0.to == ["Ann@Example.com"] })
            // Both RFC 8058 headers; the link on the public address, its token opaque (no address in it).
            let header = try #require(toAnn.headers["list-unsubscribe"])
            #expect(toAnn.headers["list-unsubscribe-post"] == "List-Unsubscribe=One-Click")
            #expect(header.hasPrefix("<\(TestBridge.publicBaseURL)/unsubscribe/u1.") && header.hasSuffix(">"))
            let link = String(header.dropFirst().dropLast())
            #expect(!link.lowercased().contains("ann") && !link.contains("example.com/unsubscribe/ann"))
            #expect(toAnn.body.hasPrefix("The Winter sale starts today."))
            #expect(toAnn.body.hasSuffix(EmailSender.unsubscribeLine(link)))
            // Each recipient gets a link of their own.
            let others = first.filter { $0.to != ["Ann@Example.com"] }.compactMap { $0.headers["list-unsubscribe"] }
            #expect(others.count == 2 && !others.contains(header))

            // The one-click POST, as a mail provider sends it: no sign-in, a form body. Twice: idempotent.
            for _ in 1...2 {
                let done = try await t.request(
                    .POST, Self.path(ofLink: link), body: Data("List-Unsubscribe=One-Click".utf8),
                    headers: [("Content-Type", "application/x-www-form-urlencoded")], token: nil)
                #expect(done.status == 200, "\(done.text)")
                #expect(done.json["unsubscribed"] as? Bool == true)
            }
            let list = try await t.get("/api/v1/email-opt-outs").items
            #expect(list.map { $0["address"] as? String } == ["ann@example.com"])
            #expect(list.first?["source"] as? String == "unsubscribe_link")

            // The preview and the next campaign skip Ann (the address compared in any case) and send to the others.
            let preview = try await t.postJSON(
                "/api/v1/campaigns/preview", #"{"audience":{"contactIds":[1,2,3]},"channel":"email","content":{"text":"x"}}"#).json
            #expect(preview["willSend"] as? Int == 2 && preview["skipped"] as? Int == 1)
            #expect(CampaignPreviewTests.channels(preview)["email"]?.3 == ["unsubscribed"])
            let second = try await Self.campaign(t, "Spring sale")
            let mail = try server.received().dropFirst(3)
            #expect(Set(mail.flatMap(\.to)) == ["kenji@example.jp", "max@example.com"])
            let report = try await t.get("/api/v1/campaigns/\(second)/report").json
            let email = (report["channels"] as? [[String: Any]] ?? []).first { $0["channel"] as? String == "email" }
            #expect(email?["sent"] as? Int == 2 && email?["skipped"] as? Int == 1)
            let reasons = (report["reasons"] as? [[String: Any]] ?? []).map { "\($0["status"] ?? "") \($0["reason"] ?? "") \($0["count"] ?? "")" }
            #expect(reasons == ["skipped unsubscribed 1"])
            let skipped = try await t.get("/api/v1/campaigns/\(second)/recipients?status=skipped").items
            #expect(skipped.map { $0["contactId"] as? Int } == [2])

            // Taken off the list, Ann gets the next one again.
            #expect(try await t.request(.DELETE, "/api/v1/email-opt-outs/ann@example.com").status == 204)
            _ = try await Self.campaign(t, "Summer sale")
            #expect(try server.received().dropFirst(5).flatMap(\.to).contains("Ann@Example.com"))
        }
    }

    /// A GET (a mail scanner following the link, or the customer opening it) only shows the page
    /// with the button; the page's form posts the one-click body back to the same URL.
    @Test func aGetDoesNotUnsubscribe() async throws {
        try await TestBridge.with { t in
            let link = try await UnsubscribeLinks(tokens: UnsubscribeTokens(inbox: t.bridge.inbox), publicBaseURL: TestBridge.publicBaseURL).link(for: "Kim@Example.com")
            let page = try await t.request(.GET, Self.path(ofLink: link), token: nil)
            #expect(page.status == 200)
            #expect(page.headers.first(name: "Content-Type") == "text/html; charset=utf-8")
            let csp = page.headers.first(name: "Content-Security-Policy") ?? ""
            #expect(csp.contains("default-src 'none'") && !csp.contains("script-src") && !csp.contains("unsafe-inline"))
            #expect(page.headers.first(name: "Referrer-Policy") == "no-referrer")
            #expect(page.text.contains(#"<form method="post">"#) && page.text.contains(#"name="List-Unsubscribe" value="One-Click""#))
            #expect(!page.text.contains("<script"))
            #expect(try await t.get("/api/v1/email-opt-outs").items.isEmpty)

            // The form's POST (a browser asks for HTML) says it is done.
            let done = try await t.request(
                .POST, Self.path(ofLink: link), body: Data("List-Unsubscribe=One-Click".utf8),
                headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "text/html")], token: nil)
            #expect(done.status == 200)
            #expect(done.text.contains("You are unsubscribed"))
            #expect(try await t.get("/api/v1/email-opt-outs").items.map { $0["address"] as? String } == ["kim@example.com"])
        }
    }

    /// A link made for an address with a letter beyond ASCII opts out the key the campaign
    /// statements compare with (only ASCII letters lowered, as SQLite's `lower` and PostgreSQL's
    /// under the C collation do): `Élodie@Exemple.fr` stays `Élodie@exemple.fr`, not `élodie@…`.
    @Test func aLinkOptsOutTheAddressAsTheCampaignsCompareIt() async throws {
        try await TestBridge.with { t in
            let links = UnsubscribeLinks(tokens: UnsubscribeTokens(inbox: t.bridge.inbox), publicBaseURL: TestBridge.publicBaseURL)
            let link = try await links.link(for: "Élodie@Exemple.fr")
            #expect(try await t.request(.POST, Self.path(ofLink: link), body: Data("List-Unsubscribe=One-Click".utf8), token: nil).status == 200)
            #expect(try await t.get("/api/v1/email-opt-outs").items.map { $0["address"] as? String } == ["Élodie@exemple.fr"])
        }
    }

    /// Unknown, cut or forged tokens change nothing: 404 with a JSON error for the POST, the
    /// "not valid" page for the GET.
    @Test func anUnknownOrForgedTokenIsNotFound() async throws {
        try await TestBridge.with { t in
            let link = try await UnsubscribeLinks(tokens: UnsubscribeTokens(inbox: t.bridge.inbox), publicBaseURL: TestBridge.publicBaseURL).link(for: "kim@example.com")
            var token = String(link.split(separator: "/").last ?? "")
            // One character changed in the sealed part (not the last one, whose low bits base64 drops).
            let index = token.index(token.startIndex, offsetBy: 10)
            token.replaceSubrange(index...index, with: token[index] == "A" ? "B" : "A")
            let forged = Base64URL.encode(Data("kim@example.com".utf8))
            for bad in [token, "u1." + forged, "nothing", String(String(link.split(separator: "/").last ?? "").dropLast(4))] {
                let post = try await t.request(.POST, "/unsubscribe/\(bad)", body: Data("List-Unsubscribe=One-Click".utf8), token: nil)
                #expect(post.status == 404, "\(bad)")
                #expect(post.errorCode == "not_found")
                let get = try await t.request(.GET, "/unsubscribe/\(bad)", token: nil)
                #expect(get.status == 404 && get.text.contains("not valid"))
            }
            #expect(try await t.get("/api/v1/email-opt-outs").items.isEmpty)
        }
    }

    /// Without `server.publicBaseURL` there is no link to put in the mail: campaign mail is not
    /// sent (the preview and the report say why), rather than sent without a one-click unsubscribe.
    @Test func withoutAPublicAddressCampaignMailIsSkippedWithTheReason() async throws {
        let server = try SMTPTestServer()
        defer { server.stop() }
        try await TestBridge.with(standIns: [.line], configure: {
            $0.email = server.settings(from: "Shop <news@example.com>")
            $0.server.publicBaseURL = nil
        }) { t in
            try await Self.contactsWithAddresses(t)
            let preview = try await t.postJSON(
                "/api/v1/campaigns/preview", #"{"audience":{"contactIds":[1]},"channel":"email","content":{"text":"x"}}"#).json
            #expect(CampaignPreviewTests.channels(preview)["email"]?.3 == [EmailSender.noUnsubscribeLinkReason])
            let id = try await Self.campaign(t, "Winter sale")
            #expect(try server.received().isEmpty)
            let skipped = try await t.get("/api/v1/campaigns/\(id)/recipients?status=skipped").items
            #expect(skipped.count == 3 && skipped.allSatisfy { $0["reason"] as? String == EmailSender.noUnsubscribeLinkReason })
        }
    }

    /// The list through the API: owners and admins add (any case, kept in lower case; again: 200),
    /// list and remove; a bad address is 400 and nothing changes; an unknown one is 404.
    @Test func ownersAndAdminsKeepTheList() async throws {
        try await TestBridge.with { t in
            let added = try await t.postJSON("/api/v1/email-opt-outs", #"{"address":" Bob@Example.COM "}"#)
            #expect(added.status == 201)
            #expect(added.json["address"] as? String == "bob@example.com" && added.json["source"] as? String == "console")
            #expect(try await t.postJSON("/api/v1/email-opt-outs", #"{"address":"bob@example.com"}"#).status == 200)
            #expect(try await t.postJSON("/api/v1/email-opt-outs", #"{"address":"amy@example.com"}"#).status == 201)
            let bad = try await t.postJSON("/api/v1/email-opt-outs", #"{"address":"not an address"}"#)
            #expect(bad.status == 400 && bad.errorCode == "invalid_email")
            #expect(try await t.get("/api/v1/email-opt-outs").items.map { $0["address"] as? String } == ["amy@example.com", "bob@example.com"])
            #expect(try await t.get("/api/v1/email-opt-outs?after=amy@example.com&limit=1").items.map { $0["address"] as? String } == ["bob@example.com"])
            #expect(try await t.request(.DELETE, "/api/v1/email-opt-outs/BOB%40example.com").status == 204)
            let gone = try await t.request(.DELETE, "/api/v1/email-opt-outs/bob@example.com")
            #expect(gone.status == 404 && gone.errorCode == "not_found")
            #expect(try await t.get("/api/v1/email-opt-outs").items.count == 1)
        }
    }
}
