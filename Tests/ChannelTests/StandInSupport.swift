@testable import BridgeServer
import ChannelKit
import Foundation
import PlatformStandIns

/// Runs `body` with a started stand-in and the production HTTP transport, stopping the stand-in after.
func withStandIn<T>(
    _ responder: @escaping PlatformStandIn.Responder, _ body: (PlatformStandIn, any HTTPTransport) async throws -> T
) async throws -> T {
    let standIn = PlatformStandIn(responder: responder)
    try await standIn.start()
    do {
        let result = try await body(standIn, HTTPClientTransport.standIns)
        await standIn.stop()
        return result
    } catch {
        await standIn.stop()
        throw error
    }
}

extension HTTPClientTransport {
    /// The production transport, allowed to reach the loopback stand-ins.
    static var standIns: HTTPClientTransport {
        var policy = EgressPolicy()
        policy.allow = [EgressAllowEntry("127.0.0.1")].compactMap { $0 }
        return HTTPClientTransport(policy: policy)
    }
}

/// Compares a recorded JSON body with the expected JSON text, key order aside.
func sameJSON(_ data: Data, _ expected: String) -> Bool {
    guard let a = try? JSONSerialization.jsonObject(with: data) as? NSDictionary,
        let b = try? JSONSerialization.jsonObject(with: Data(expected.utf8)) as? NSDictionary
    else { return false }
    return a == b
}

func outbound(_ content: MessageContent, to recipient: String, context: ConversationContext = ConversationContext()) -> OutboundMessage {
    OutboundMessage(id: "123e4567-e89b-12d3-a456-426614174000", recipient: recipient, content: content, context: context)
}

/// Awaits `body`, returning the `SendError` it threw, if any.
func sendError(_ body: () async throws -> Void) async -> SendError? {
    do {
        try await body()
        return nil
    } catch {
        return error as? SendError
    }
}
