@testable import BridgeServer
import Foundation
import Testing

/// Issue 13, point 13: oversize bodies are 413 and query values that are not UTF-8 or hold a NUL
/// are 400, with JSON errors, and change nothing.
@Suite struct BadInputTests {
    @Test func oversizeBodiesAre413AndChangeNothing() async throws {
        try await TestBridge.with(standIns: [.line, .slack]) { t in
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            let before = try await t.messages(ticket: ticket).count
            let reply = try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"text":"\#(String(repeating: "a", count: 300_000))"}"#)
            #expect(reply.status == 413)
            #expect(reply.errorCode == "body_too_large")
            #expect(reply.errorMessage == "the body is larger than 262144 bytes, the most this endpoint takes")
            #expect(try await t.messages(ticket: ticket).count == before)
            let login = try await t.postJSON(
                "/api/v1/auth/login", #"{"email":"ann@example.com","password":"\#(String(repeating: "p", count: 10_000))"}"#, token: nil)
            #expect(login.status == 413)
            #expect(login.errorCode == "body_too_large")
            // Slack's webhook reads its body (for the signature) with a limit too.
            let slack = try await t.request(.POST, "/webhooks/slack/main", body: Data(count: 2 << 20), token: nil)
            #expect(slack.status == 413)
            #expect(slack.errorCode == "body_too_large")
        }
    }

    @Test(arguments: ["q=%00ab", "q=%FFab", "contact=ab%00", "tag=%C3", "status=open&%00=x"])
    func queryValuesThatAreNotTextAre400(_ query: String) async throws {
        try await TestBridge.with { t in
            let reply = try await t.get("/api/v1/tickets?\(query)")
            #expect(reply.status == 400)
            #expect(reply.errorCode == "invalid_query")
            // A saved view's filter is read the same way, and is not stored (422: to the document the
            // filter is any string, so what is wrong inside it is not a 400).
            let view = try await t.postJSON("/api/v1/views", #"{"name":"bad","filter":"\#(query)","shared":true}"#)
            #expect(view.status == 422)
            #expect(view.errorCode == "invalid_query")
            #expect(try await t.get("/api/v1/views").items.allSatisfy { $0["name"] as? String != "bad" })
        }
    }

    @Test func queryStringsAreDecodedStrictly() throws {
        let parameters = try QueryString.parameters("q=caf%C3%A9+au%20lait&field.pl%61n=pro&empty=&flag")
        #expect(parameters["q"] == "café+au lait")
        #expect(parameters["field.plan"] == "pro")
        #expect(parameters["empty"] == "")
        #expect(parameters["flag"] == "")
        for bad in ["q=%zz", "q=%4", "q=%00", "q=%C3%28", "%FF=x"] {
            #expect(throws: APIError.self, "\(bad)") { try QueryString.parameters(bad[...]) }
        }
    }
}
