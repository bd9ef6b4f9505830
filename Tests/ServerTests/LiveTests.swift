@testable import BridgeServer
import Foundation
import HummingbirdWSClient
import Logging
import Synchronization
import Testing
import UniversalInbox

/// A WebSocket client on `/api/v1/live` (or another live path, e.g. the widget's) that keeps every
/// JSON message it receives.
final class LiveClient: Sendable {
    private let received = Mutex<[String]>([])
    private let writer = Mutex<WebSocketOutboundWriter?>(nil)
    /// Set once the connection has ended (closed, or refused).
    private let ended = Mutex<Bool>(false)
    private let task = Mutex<Task<Void, any Error>?>(nil)
    /// The close frame the server ended the connection with.
    private let closeFrame = Mutex<WebSocketCloseFrame?>(nil)

    /// `after`: resume from the event log after that `seq`.
    static func connect(_ t: TestBridge, path: String = "/api/v1/live", token: String, after: Int? = nil) async throws -> LiveClient {
        let client = LiveClient()
        let url = "ws://127.0.0.1:\(t.bridge.port)\(path)?token=\(token)" + (after.map { "&after=\($0)" } ?? "")
        let task = Task {
            defer { client.ended.withLock { $0 = true } }
            var logger = Logger(label: "live-client")
            logger.logLevel = .critical
            let frame = try await WebSocketClient.connect(url: url, logger: logger) { inbound, outbound, _ in
                client.writer.withLock { $0 = outbound }
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .text(let text) = message { client.received.withLock { $0.append(text) } }
                }
            }
            client.closeFrame.withLock { $0 = frame }
        }
        client.task.withLock { $0 = task }
        _ = try await client.next("hello") { _ in true }
        return client
    }

    var messages: [[String: Any]] {
        received.withLock { $0 }.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    func send(_ json: String) async throws {
        guard let writer = writer.withLock({ $0 }) else { throw TestBridge.TimeoutError(what: "a connection") }
        try await writer.write(.text(json))
    }

    /// The first received message of `type` that `matches`, waiting up to five seconds.
    func next(_ type: String, after count: Int = 0, _ matches: @escaping ([String: Any]) -> Bool) async throws -> [String: Any] {
        try await next(anyOf: [type], after: count, matches)
    }

    /// The first message after the first `count` whose type is one of `types` and that `matches`.
    func next(anyOf types: Set<String>, after count: Int = 0, _ matches: @escaping ([String: Any]) -> Bool = { _ in true }) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(20)  // a bound for a loaded machine, not a timing assertion
        while ContinuousClock.now < deadline {
            if let found = messages.dropFirst(count).first(where: { types.contains($0["type"] as? String ?? "") && matches($0) }) { return found }
            if ended.withLock({ $0 }) { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestBridge.TimeoutError(what: "a live \(types.sorted().joined(separator: " or ")) message; got \(received.withLock { $0 })")
    }

    /// Waits (up to five seconds) for the server to end the connection; its close frame.
    func closedByServer() async throws -> WebSocketCloseFrame? {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if ended.withLock({ $0 }) { return closeFrame.withLock { $0 } }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestBridge.TimeoutError(what: "the server to close the live socket")
    }

    var isOpen: Bool { !ended.withLock { $0 } }

    func close() async {
        try? await writer.withLock { $0 }?.close(.normalClosure, reason: nil)
        _ = await task.withLock { $0 }?.result
    }
}

/// `/api/v1/live`: presence for collision detection and inbox events, per what each agent may read.
@Suite struct LiveTests {
    static func agents(_ entry: [String: Any]) -> [String] {
        (entry["agents"] as? [[String: Any]] ?? []).map { "\($0["name"] as? String ?? "?") \($0["state"] as? String ?? "?")" }
    }

    @Test func colleaguesSeeWhoIsViewingAndTyping() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = try await t.addAgent("Ann")
            let bob = try await t.addAgent("Bob")
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            let annLive = try await LiveClient.connect(t, token: ann.token)
            let bobLive = try await LiveClient.connect(t, token: bob.token)

            try await annLive.send(#"{"type":"viewing","ticketId":\#(ticket)}"#)
            let viewing = try await bobLive.next("presence") { Self.agents($0) == ["Ann viewing"] }
            #expect(viewing["ticketId"] as? Int64 == ticket)
            try await annLive.send(#"{"type":"typing","ticketId":\#(ticket)}"#)
            _ = try await bobLive.next("presence") { Self.agents($0) == ["Ann typing"] }
            try await bobLive.send(#"{"type":"viewing","ticketId":\#(ticket)}"#)
            _ = try await annLive.next("presence") { Self.agents($0) == ["Ann typing", "Bob viewing"] }

            // Ann closes her inbox: she is gone from the ticket.
            await annLive.close()
            _ = try await bobLive.next("presence") { Self.agents($0) == ["Bob viewing"] }
            try await bobLive.send(#"{"type":"left","ticketId":\#(ticket)}"#)
            _ = try await bobLive.next("presence") { Self.agents($0).isEmpty }

            try await bobLive.send(#"{"type":"dancing"}"#)
            _ = try await bobLive.next("error") { $0["code"] as? String == "invalid_message" }
            try await bobLive.send(#"{"type":"viewing","ticketId":999}"#)
            _ = try await bobLive.next("error") { $0["code"] as? String == "not_found" }
            await bobLive.close()
        }
    }

    @Test func inboxEventsReachOnlyAgentsWhoMayReadTheTicket() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let sales = try await t.addDepartment("Sales")
            let support = try await t.addDepartment("Support")
            let sam = try await t.addAgent("Sam", departments: [sales])
            _ = try await t.patchJSON("/api/v1/agents/\(sam.id)", #"{"departmentsOnly":true}"#)
            let ada = try await t.addAgent("Ada", departments: [support])
            let samLive = try await LiveClient.connect(t, token: sam.token)
            let adaLive = try await LiveClient.connect(t, token: ada.token)

            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            _ = try await adaLive.next("ticket_opened") { $0["ticketId"] as? Int64 == ticket }
            _ = try await adaLive.next("message") { $0["ticketId"] as? Int64 == ticket && $0["direction"] as? String == "in" }
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/transfer", #"{"departmentId":\#(support),"agentId":\#(ada.id)}"#)
            _ = try await adaLive.next("assigned") { $0["agentId"] as? Int64 == ada.id }

            // Sam sees only Sales: nothing about this ticket, and may not watch it.
            try await samLive.send(#"{"type":"viewing","ticketId":\#(ticket)}"#)
            _ = try await samLive.next("error") { $0["code"] as? String == "not_your_department" }
            try await adaLive.send(#"{"type":"typing","ticketId":\#(ticket)}"#)
            _ = try await adaLive.next("presence") { Self.agents($0) == ["Ada typing"] }
            try await Task.sleep(for: .milliseconds(200))
            #expect(samLive.messages.filter { $0["ticketId"] as? Int64 == ticket && $0["type"] as? String != "error" }.isEmpty)
            await samLive.close()
            await adaLive.close()
        }
    }

    @Test func refusesWithoutAValidToken() async throws {
        try await TestBridge.with { t in
            #expect(try await t.get("/api/v1/live", token: nil).status == 401)
            let plain = try await t.get("/api/v1/live")
            #expect(plain.status == 426)
            #expect(plain.errorCode == "upgrade_required")
            await #expect(throws: (any Error).self) { _ = try await LiveClient.connect(t, token: "brg_not-a-token") }
        }
    }

    /// A socket that dies without a close is only noticed by its silence: every socket hears a
    /// heartbeat every `server.liveHeartbeat` (announced in `hello`), carrying the log position it
    /// has been served up to, past entries its agent may not read.
    @Test func everySocketHearsAHeartbeatWithItsLogPosition() async throws {
        try await TestBridge.with(standIns: [.line], configure: { $0.server.liveHeartbeat = 0.2 }) { t in
            let sales = try await t.addDepartment("Sales")
            let sam = try await t.addAgent("Sam", departments: [sales])
            _ = try await t.patchJSON("/api/v1/agents/\(sam.id)", #"{"departmentsOnly":true}"#)
            let ann = try await t.addAgent("Ann")
            let annLive = try await LiveClient.connect(t, token: ann.token)
            let samLive = try await LiveClient.connect(t, token: sam.token)
            let hello = try await samLive.next("hello") { _ in true }
            #expect(hello["heartbeat"] as? Double == 0.2)
            let start = try #require(hello["seq"] as? Int)
            _ = try await samLive.next("heartbeat") { $0["seq"] as? Int == start }
            _ = try await samLive.next("heartbeat", after: samLive.messages.count) { $0["seq"] as? Int == start }  // again, with nothing new

            // A ticket Sam may not read: Ann gets its entries; Sam only hears the position move past them.
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            let message = try await annLive.next("message") { $0["ticketId"] as? Int64 == ticket }
            let seq = try #require(message["seq"] as? Int)
            _ = try await samLive.next("heartbeat") { ($0["seq"] as? Int ?? 0) >= seq }
            _ = try await annLive.next("heartbeat") { ($0["seq"] as? Int ?? 0) >= seq }
            #expect(samLive.messages.allSatisfy { ["hello", "heartbeat"].contains($0["type"] as? String) })
            await samLive.close()
            await annLive.close()
        }
    }

    @Test func typingLapsesToViewingThenViewingLapses() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            let hub = LiveHub(inbox: t.bridge.inbox, logger: Logger(label: "test"), typingTimeout: .seconds(5), viewingTimeout: .seconds(60))
            let (id, stream) = await hub.connect(.adminToken)
            await hub.receive(id, #"{"type":"typing","ticketId":\#(ticket)}"#)
            await hub.sweep(now: .now + .seconds(10))
            await hub.sweep(now: .now + .seconds(120))
            await hub.disconnect(id)
            var states: [[String]] = []
            for await text in stream {
                guard let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], json["type"] as? String == "presence" else { continue }
                states.append(Self.agents(json))
            }
            #expect(states == [["admin token typing"], ["admin token viewing"], []])
        }
    }
}
