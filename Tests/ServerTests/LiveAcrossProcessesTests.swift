@testable import BridgeServer
import Foundation
import Logging
import PostgresNIO
import PostgresStore
import Synchronization
import TestSupport
import Testing
import UniversalInbox

/// Two live hubs, as two bridge processes on one PostgreSQL have (each its own `PostgresClient`,
/// `PostgresPresenceStore` and `LiveHubListener`): an agent on one sees a colleague on the other
/// start typing, leave, and, when the colleague's process died, lapse at its entry's expiry. (Both
/// hubs serve one SQLite inbox here: tickets and rights come from it; presence goes through PostgreSQL.)
@Suite struct LiveAcrossProcessesTests {
    static let url = ProcessInfo.processInfo.environment["BRIDGE_TEST_POSTGRES_URL"]
    static let logger: Logger = {
        var logger = Logger(label: "live-processes")
        logger.logLevel = .warning
        return logger
    }()

    @Test(.enabled(if: url != nil, "BRIDGE_TEST_POSTGRES_URL is not set (scripts/test.sh starts a throwaway PostgreSQL)"))
    func presenceOnOneProcessIsSeenOnTheOther() async throws {
        try await Self.withFreshDatabase { settings in
            _ = try await PostgresMigrator.migrate(settings, logger: Self.logger)
            try await TestBridge.with(standIns: [.line]) { t in
                let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
                let clients = try (0..<2).map { _ in PostgresClient(configuration: try settings.clientConfiguration(), backgroundLogger: Self.logger) }
                let hubs = clients.enumerated().map { index, client in
                    // Typing never lapses here by itself (it would after 6 s): the test waits on messages, not on the clock.
                    LiveHub(
                        inbox: t.bridge.inbox, logger: Self.logger, typingTimeout: .seconds(3600), viewingTimeout: .seconds(3600),
                        presenceStore: PostgresPresenceStore(client: client, logger: Self.logger), processId: "p\(index)")
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for client in clients { group.addTask { await client.run() } }
                    for hub in hubs {
                        group.addTask { try await hub.run() }
                        group.addTask { await LiveHubListener(hub: hub, visitorLog: VisitorLog(inbox: t.bridge.inbox), settings: settings, logger: Self.logger).listener.run() }
                    }
                    defer { group.cancelAll() }

                    let (_, annStream) = await hubs[0].connect(.adminToken)
                    let ann = Received(annStream)
                    let (bob, _) = await hubs[1].connect(.adminToken)
                    await hubs[1].receive(bob, #"{"type":"typing","ticketId":\#(ticket)}"#)
                    try await ann.presence(ticket, ["admin token typing"])
                    await hubs[1].disconnect(bob)
                    try await ann.presence(ticket, [])

                    // A process that died leaves its entry: the other drops it once it expires. (Its last
                    // refresh is written again already past its expiry, rather than waiting on the clock.)
                    let dead = PresenceEntry(
                        connectionId: UUID(), processId: "dead", agentId: nil, agentName: "Zed", ticketId: ticket, state: .viewing,
                        expiresAt: Date.now.addingTimeInterval(3600))
                    let store = PostgresPresenceStore(client: clients[1], logger: Self.logger)
                    try await store.set(dead)
                    try await ann.presence(ticket, ["Zed viewing"])
                    var expired = dead
                    expired.expiresAt = Date.now.addingTimeInterval(-1)
                    try await store.set(expired)
                    try await ann.presence(ticket, [])
                }
            }
        }
    }

    /// Runs `body` with a new empty database on the test server, dropped afterwards.
    static func withFreshDatabase(_ body: (PostgresSettings) async throws -> Void) async throws {
        guard let url, case .postgres(let server) = try DatabaseURL.parse(url, key: "BRIDGE_TEST_POSTGRES_URL") else { return }
        try await FreshPostgresDatabase.with(on: server, logger: logger, body)
    }
}

/// Everything a hub sent one connection, collected in the background.
final class Received: Sendable {
    private let texts = Mutex<[String]>([])
    private let position = Mutex(0)

    init(_ stream: AsyncStream<String>) {
        Task { for await text in stream { self.texts.withLock { $0.append(text) } } }
    }

    /// Waits for the next `presence` message about `ticketId` (after the last one waited for) and
    /// expects its agents to be `agents` (an error after 20 s, a bound for a loaded machine).
    func presence(_ ticketId: Int64, _ agents: [String]) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            let all = texts.withLock { $0 }
            let start = position.withLock { $0 }
            for index in all.indices.dropFirst(start) {
                guard let json = try? JSONSerialization.jsonObject(with: Data(all[index].utf8)) as? [String: Any],
                    json["type"] as? String == "presence", json["ticketId"] as? Int64 == ticketId
                else { continue }
                position.withLock { $0 = index + 1 }
                #expect(LiveTests.agents(json) == agents)
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestBridge.TimeoutError(what: "a presence message about ticket \(ticketId) listing \(agents)")
    }
}
