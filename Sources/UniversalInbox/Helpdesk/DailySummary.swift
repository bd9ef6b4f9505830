import Foundation

extension Inbox {
    /// Opts an owner or admin in to (or out of) the daily summary e-mail. Agents cannot be: the
    /// summary has everyone's figures, which only owners and admins may read.
    public func setDailySummary(agentId: Int64, enabled: Bool) async throws {
        try await stores.reportStore.setDailySummary(agentId: agentId, enabled: enabled)
    }

    /// The owners and admins opted in, in id order (an agent opted in and later made an agent
    /// again gets nothing).
    public func dailySummaryRecipients() async throws -> [Agent] {
        let ids = Set(try await stores.reportStore.dailySummaryAgentIds())
        guard !ids.isEmpty else { return [] }
        return try await agents().filter { ids.contains($0.id) && $0.active && ($0.role == .owner || $0.role == .admin) }.sorted { $0.id < $1.id }
    }

    /// Claims local day `day`'s summary for sending, once across every process (see `ReportStore`).
    public func claimDailySummary(day: String) async throws -> Bool {
        try await stores.reportStore.claimDailySummary(day: day, now: clock())
    }
}
