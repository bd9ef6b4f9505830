import Foundation
import UniversalInbox

/// A clock the browser tests set from outside, in debug builds only: `BRIDGE_TEST_CLOCK_FILE` names
/// a file holding an RFC 3339 date-time, which `bridge serve` takes as now while the file holds one
/// (the real time when it is missing or empty). The bridge already runs on an injected clock (the
/// Swift tests move it by hand); this lets a test that drives a real `bridge serve` through its API
/// and signed webhooks open, answer and resolve tickets on past days, as a report needs (a month of
/// tickets), without sleeping. Release builds ignore the variable.
enum TestClockFile {
    static func clock(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> @Sendable () -> Date {
        #if DEBUG
        if let path = environment["BRIDGE_TEST_CLOCK_FILE"], !path.isEmpty {
            return {
                let text = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
                return RFC3339.dateTime(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? Date()
            }
        }
        #endif
        return { Date() }
    }
}
