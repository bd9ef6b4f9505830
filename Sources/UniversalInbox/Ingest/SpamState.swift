import Foundation

/// What the console shows of the spam filter: how many tickets agents have trained it with, of
/// each kind (it acts once both reach the configured minimum).
public struct SpamTraining: Sendable, Equatable, Encodable {
    public var spamTickets: Int
    public var hamTickets: Int
}

extension Inbox {
    public func spamTraining() async throws -> SpamTraining {
        let counts = try await stores.spamStore.counts(of: [])
        return SpamTraining(spamTickets: counts.spamTickets, hamTickets: counts.hamTickets)
    }
}
