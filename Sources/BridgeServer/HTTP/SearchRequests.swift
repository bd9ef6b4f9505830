import Foundation
import Hummingbird
import UniversalInbox

extension BridgeRequestContext {
    /// Runs a ticket search for this request: stopped when the client goes away
    /// (`untilClientLeaves`) or when it runs past `search.timeout` (`SearchTooCostly`, answered 503
    /// by `APIErrorMiddleware`). Stopped searches are counted in `bridge_searches_stopped_total`.
    func search<T: Sendable>(metrics: BridgeMetrics, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            return try await untilClientLeaves(work)
        } catch let error as SearchTooCostly {
            metrics.searchStopped(reason: "too_costly")
            logger.notice("search stopped", metadata: ["search.reason": "too_costly", "search.timeout": "\(error.timeout)"])
            throw error
        } catch let error as CancellationError {
            metrics.searchStopped(reason: "client_left")
            logger.debug("search stopped", metadata: ["search.reason": "client_left"])
            throw error
        }
    }
}
