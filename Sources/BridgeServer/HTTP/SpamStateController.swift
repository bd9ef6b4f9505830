import Foundation
import Hummingbird
import UniversalInbox

/// `GET /api/v1/spam`: the spam filter's state for the console (owners and admins): the threshold
/// and minimum from the configuration (`spam:`) and how far agents' training has come.
struct SpamStateController: Sendable {
    let inbox: Inbox
    let threshold: Double
    let minimumTraining: Int

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.get("spam") { _, context in
            struct State: Encodable {
                var threshold: Double
                var minimumTraining: Int
                var spamTickets: Int
                var hamTickets: Int
                var active: Bool
            }
            _ = try context.requireSettingsManager()
            let training = try await inbox.spamTraining()
            return JSONResponse.make(State(
                threshold: threshold, minimumTraining: minimumTraining, spamTickets: training.spamTickets, hamTickets: training.hamTickets,
                active: training.spamTickets >= minimumTraining && training.hamTickets >= minimumTraining))
        }
    }
}
