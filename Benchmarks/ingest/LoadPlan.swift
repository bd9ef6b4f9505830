import ChannelKit
import Foundation

/// Signed LINE webhooks, one text event each, from a pool of customers.
struct LoadPlan: Sendable {
    static let lineSecret = "bench-line-channel-secret"
    let bodies: [Data]
    let signatures: [String]

    init(events: Int, customers: Int = 1000, seed: String = UUID().uuidString.prefix(8).description) {
        var bodies: [Data] = []
        var signatures: [String] = []
        bodies.reserveCapacity(events)
        let start = Int64(Date().timeIntervalSince1970 * 1000)
        for i in 0..<events {
            let user = String(format: "U%032x", i % customers)
            let body = #"{"destination":"Ubench","events":[{"type":"message","timestamp":\#(start + Int64(i)),"webhookEventId":"\#(seed)-\#(i)","deliveryContext":{"isRedelivery":false},"replyToken":"rt\#(i)","mode":"active","source":{"type":"user","userId":"\#(user)"},"message":{"id":"\#(seed)\#(i)","type":"text","quoteToken":"q","text":"Where is my order #\#(i)?"}}]}"#
            let data = Data(body.utf8)
            bodies.append(data)
            signatures.append(Signatures.hmacSHA256Base64(secret: Self.lineSecret, body: data))
        }
        self.bodies = bodies
        self.signatures = signatures
    }

    /// The platform message id of event `i` (stored on the message row).
    static func messageId(seed: String, _ i: Int) -> String { "\(seed)\(i)" }
}

/// Latency figures.
struct LatencyStats {
    var samples: [Double]  // milliseconds

    func percentile(_ p: Double) -> Double {
        guard !samples.isEmpty else { return .nan }
        let sorted = samples.sorted()
        let index = min(sorted.count - 1, max(0, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))
        return sorted[index]
    }

    var summary: String { String(format: "p50 %.2f ms, p99 %.2f ms, max %.2f ms", percentile(50), percentile(99), samples.max() ?? .nan) }
}
