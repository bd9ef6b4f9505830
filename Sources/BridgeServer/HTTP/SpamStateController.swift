import Foundation
import Hummingbird
import UniversalInbox

/// `GET /api/v1/spam`: the spam filter's state for the console (owners and admins): the threshold
/// in force and bridge.yaml's, the minimum from the configuration (`spam:`) and how far agents'
/// training has come. `PUT /api/v1/spam` sets the threshold in the database (every process screens
/// with it from its next run), or with null goes back to bridge.yaml's.
struct SpamStateController: Sendable {
    let inbox: Inbox
    /// bridge.yaml's `spam.threshold`, in force while the console has set none.
    let threshold: Double
    let minimumTraining: Int

    struct State: Encodable {
        /// The threshold the screening uses now.
        var threshold: Double
        /// bridge.yaml's.
        var configuredThreshold: Double
        /// Which applies: `console` (set with PUT) or `config`.
        var thresholdSource: String
        var minimumTraining: Int
        var spamTickets: Int
        var hamTickets: Int
        var active: Bool
    }

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.get("spam") { _, context in
            _ = try context.requireSettingsManager()
            return JSONResponse.make(try await state())
        }
        group.put("spam") { request, context in
            /// `threshold` must be given: a number, or null for bridge.yaml's.
            struct Body: Decodable, NullableFields {
                static let nullableFields: Set<String> = ["threshold"]
                var threshold: Double?
                enum Keys: String, CodingKey { case threshold }
                init(from decoder: any Decoder) throws {
                    threshold = try decoder.container(keyedBy: Keys.self).decode(Double?.self, forKey: .threshold)
                }
            }
            _ = try context.requireSettingsManager()
            let body = try await request.decode(Body.self)
            try await inbox.setSpamThreshold(body.threshold)
            return JSONResponse.make(try await state())
        }
    }

    private func state() async throws -> State {
        let stored = try await inbox.spamThreshold()
        let training = try await inbox.spamTraining()
        return State(
            threshold: stored ?? threshold, configuredThreshold: threshold, thresholdSource: stored == nil ? "config" : "console",
            minimumTraining: minimumTraining, spamTickets: training.spamTickets, hamTickets: training.hamTickets,
            active: training.spamTickets >= minimumTraining && training.hamTickets >= minimumTraining)
    }
}
