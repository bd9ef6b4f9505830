import Foundation
import Testing
import UniversalInbox

/// `PushDeviceStore` as every implementation must keep it: an endpoint or phone belongs to the
/// agent who registered it first (registering it again renews it, another agent is refused and
/// changes nothing), lists are per agent, and removal is only of one's own unless no agent is named.
@Suite struct PushDeviceContractTests {
    /// Agents 7 (Ann) and 8 (Bo).
    static let fixture = [
        "INSERT INTO agents (id, email, name, role, max_tickets, created_at, updated_at) VALUES (7, 'ann@example.com', 'Ann', 'agent', 5, 1, 1), (8, 'bo@example.com', 'Bo', 'agent', 5, 1, 1)"
    ]
    static let endpoint = "https://push.example.com/send/abc"
    static let apnsToken = String(repeating: "ab", count: 32)

    @Test(arguments: StoreKind.available)
    func aSubscriptionStaysWithItsAgentAndRenewsItsKeys(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let push = stores.pushTargets
            let id = try await push.addSubscription(agentId: 7, endpoint: Self.endpoint, p256dh: "key-1", auth: "auth-1", now: Date(ms: 1_000))
            #expect(try await push.subscriptions(agentId: 7) == [PushSubscription(id: id, endpoint: Self.endpoint, p256dh: "key-1", auth: "auth-1")])
            // The same browser again: the same row, new keys.
            #expect(try await push.addSubscription(agentId: 7, endpoint: Self.endpoint, p256dh: "key-2", auth: "auth-2", now: Date(ms: 2_000)) == id)
            #expect(try await push.subscriptions(agentId: 7) == [PushSubscription(id: id, endpoint: Self.endpoint, p256dh: "key-2", auth: "auth-2")])
            // Bo cannot take Ann's endpoint, and the refusal names no key.
            await #expect(throws: InboxError.endpointTaken) {
                try await push.addSubscription(agentId: 8, endpoint: Self.endpoint, p256dh: "bo-key", auth: "bo-auth", now: Date(ms: 3_000))
            }
            #expect(!InboxError.endpointTaken.description.contains("key"))
            #expect(try await push.subscriptions(agentId: 8).isEmpty)
            #expect(try await push.subscriptions(agentId: 7) == [PushSubscription(id: id, endpoint: Self.endpoint, p256dh: "key-2", auth: "auth-2")])
            // Bo cannot remove it either; Ann can; with no agent named (the push service said it is gone) anyone's goes.
            #expect(try await push.removeSubscription(id: id, agentId: 8) == false)
            #expect(try await push.subscriptions(agentId: 7).count == 1)
            #expect(try await push.removeSubscription(id: id, agentId: 7))
            #expect(try await push.subscriptions(agentId: 7).isEmpty)
            #expect(try await push.removeSubscription(id: id, agentId: 7) == false)
            let again = try await push.addSubscription(agentId: 8, endpoint: Self.endpoint, p256dh: "bo-key", auth: "bo-auth", now: Date(ms: 4_000))
            #expect(try await push.removeSubscription(id: again, agentId: nil))
            #expect(try await push.subscriptions(agentId: 8).isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func aPhoneStaysWithItsAgentAndListsByPlatform(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let push = stores.pushTargets
            let phone = try await push.addDevice(agentId: 7, platform: .apns, token: Self.apnsToken, now: Date(ms: 1_000))
            let android = try await push.addDevice(agentId: 7, platform: .fcm, token: "fcm-token-1", now: Date(ms: 1_000))
            // The same token on another platform is another device.
            let other = try await push.addDevice(agentId: 8, platform: .fcm, token: Self.apnsToken, now: Date(ms: 1_000))
            #expect(Set([phone, android, other]).count == 3)
            #expect(try await push.addDevice(agentId: 7, platform: .apns, token: Self.apnsToken, now: Date(ms: 2_000)) == phone)
            await #expect(throws: InboxError.deviceTaken) {
                try await push.addDevice(agentId: 8, platform: .apns, token: Self.apnsToken, now: Date(ms: 3_000))
            }
            #expect(!InboxError.deviceTaken.description.contains(Self.apnsToken))
            #expect(try await push.devices(agentId: 7, platform: nil) == [
                PushDevice(id: phone, platform: .apns, token: Self.apnsToken), PushDevice(id: android, platform: .fcm, token: "fcm-token-1"),
            ])
            #expect(try await push.devices(agentId: 7, platform: .fcm) == [PushDevice(id: android, platform: .fcm, token: "fcm-token-1")])
            #expect(try await push.devices(agentId: 8, platform: .apns).isEmpty)
            #expect(try await push.removeDevice(id: phone, agentId: 8) == false)
            #expect(try await push.removeDevice(id: phone, agentId: 7))
            #expect(try await push.removeDevice(id: android, agentId: nil))
            #expect(try await push.devices(agentId: 7, platform: nil).isEmpty)
            #expect(try await push.devices(agentId: 8, platform: nil) == [PushDevice(id: other, platform: .fcm, token: Self.apnsToken)])
        }
    }

    /// Two processes registering the same endpoints and phones for different agents at once: each
    /// ends with exactly one owner, who is the one whose registration succeeded.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func twoProcessesRegisteringAtOnceLeaveOneOwner() async throws {
        try await Stores.withPostgresProcesses(2) { processes throws in
            for sql in Self.fixture { try await processes[0].sql.execute(sql) }
            let agents: [Int64] = [7, 8]
            let results = try await withThrowingTaskGroup(of: (Int, Int64, Bool, Bool).self) { group in
                for round in 0..<20 {
                    for index in 0..<2 {
                        let push = processes[index].pushTargets, agent = agents[index]
                        group.addTask {
                            let subscribed: Bool, registered: Bool
                            do {
                                _ = try await push.addSubscription(agentId: agent, endpoint: "https://push.example.com/\(round)", p256dh: "k", auth: "a", now: Date(ms: 1))
                                subscribed = true
                            } catch let error as InboxError where error == .endpointTaken { subscribed = false }
                            do {
                                _ = try await push.addDevice(agentId: agent, platform: .fcm, token: "token-\(round)", now: Date(ms: 1))
                                registered = true
                            } catch let error as InboxError where error == .deviceTaken { registered = false }
                            return (round, agent, subscribed, registered)
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let subscriptions = try await agents.asyncMap { try await processes[1].pushTargets.subscriptions(agentId: $0) }
            let devices = try await agents.asyncMap { try await processes[1].pushTargets.devices(agentId: $0, platform: nil) }
            for round in 0..<20 {
                let winners = results.filter { $0.0 == round && $0.2 }.map(\.1)
                #expect(winners.count == 1, "endpoint \(round): \(winners)")
                let owners = agents.indices.filter { subscriptions[$0].contains { $0.endpoint == "https://push.example.com/\(round)" } }.map { agents[$0] }
                #expect(owners == winners)
                let phoneWinners = results.filter { $0.0 == round && $0.3 }.map(\.1)
                #expect(phoneWinners.count == 1, "token \(round): \(phoneWinners)")
                let phoneOwners = agents.indices.filter { devices[$0].contains { $0.token == "token-\(round)" } }.map { agents[$0] }
                #expect(phoneOwners == phoneWinners)
            }
        }
    }
}

extension Array {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
