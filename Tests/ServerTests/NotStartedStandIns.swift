import Foundation
import PlatformStandIns

/// Where a `TestBridge` points the API of each platform whose stand-in the test did not start.
///
/// One server for the whole test run, so the port stays ours (a closed or freed port could be
/// taken by another test's stand-in and answer as if started). It answers every call at once with
/// a 404 the channels treat as permanent (the bridge gives up instead of retrying or waiting) and
/// keeps it under the bridge's own path prefix, so that `TestBridge.stop()` fails the test naming
/// the call and the stand-in to start.
enum NotStartedStandIns {
    /// A call a bridge made to a stand-in its test did not start.
    struct Call: Sendable {
        var method: String
        /// The path as the platform would have seen it.
        var path: String
        /// `TestBridge.StandIn`'s raw value.
        var standIn: String
    }

    private static let server = Task<PlatformStandIn, any Error> {
        let server = PlatformStandIn { _, _ in
            .json(#"{"error":"this test did not start the stand-in for this platform (TestBridge.with(standIns:))"}"#, status: 404)
        }
        try await server.start()
        return server
    }

    /// `http://127.0.0.1:PORT`; the server starts on the first call.
    static func baseURL() async throws -> String { try await server.value.baseURL }

    /// Calls under `prefix` (`/<bridge>/`), each path continuing `<stand-in>/<platform path>`.
    static func calls(under prefix: String) async -> [Call] {
        guard let server = try? await server.value else { return [] }
        return server.requests(to: prefix).map { request in
            let rest = request.path.dropFirst(prefix.count)
            let standIn = rest.prefix { $0 != "/" }
            return Call(method: request.method, path: String(rest.dropFirst(standIn.count)), standIn: String(standIn))
        }
    }
}
