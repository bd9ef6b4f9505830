import ChannelKit
import Foundation
import Synchronization

/// The approved templates per channel account, kept a few minutes so opening the template picker
/// does not call the platform each time. Only successful lists are kept: a failure is asked again.
final class TemplateCache: Sendable {
    /// Long enough for a shift of agents opening the picker, short enough that a template approved
    /// in Meta's manager shows up soon.
    static let lifetime: TimeInterval = 5 * 60

    private struct Entry {
        var fetchedAt: Date
        var templates: [MessageTemplate]
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let clock: @Sendable () -> Date

    init(clock: @escaping @Sendable () -> Date) {
        self.clock = clock
    }

    /// The account's list from the cache while it is fresh, else from `fetch` (and kept).
    func templates(for account: String, fetch: () async throws -> [MessageTemplate]) async throws -> [MessageTemplate] {
        let now = clock()
        if let entry = entries.withLock({ $0[account] }), now.timeIntervalSince(entry.fetchedAt) < Self.lifetime, now >= entry.fetchedAt {
            return entry.templates
        }
        let templates = try await fetch()
        entries.withLock { $0[account] = Entry(fetchedAt: now, templates: templates) }
        return templates
    }
}
