import ChannelKit
import Foundation

/// Signed LINE webhooks, one text event each, from a pool of customers. Every body has its own
/// `webhookEventId` and message id (`seed` keeps runs apart), so none is deduplicated.
struct LoadPlan: Sendable {
    static let lineSecret = "bench-line-channel-secret"
    static let customers = 1000
    let bodies: [Data]
    let signatures: [String]

    init(events: Int, seed: String = UUID().uuidString.prefix(8).description) {
        var bodies: [Data] = []
        var signatures: [String] = []
        bodies.reserveCapacity(events)
        signatures.reserveCapacity(events)
        let start = Int64(Date().timeIntervalSince1970 * 1000)
        for i in 0..<events {
            let data = Self.body(i, seed: seed, start: start)
            bodies.append(data)
            signatures.append(Signatures.hmacSHA256Base64(secret: Self.lineSecret, body: data))
        }
        self.bodies = bodies
        self.signatures = signatures
    }

    /// Webhook `i` of a plan: a text message from customer `i % customers`.
    static func body(_ i: Int, seed: String, start: Int64) -> Data {
        let user = String(format: "U%032x", i % customers)
        return Data(#"{"destination":"Ubench","events":[{"type":"message","timestamp":\#(start + Int64(i)),"webhookEventId":"\#(seed)-\#(i)","deliveryContext":{"isRedelivery":false},"replyToken":"rt\#(i)","mode":"active","source":{"type":"user","userId":"\#(user)"},"message":{"id":"\#(seed)\#(i)","type":"text","quoteToken":"q","text":"Where is my order #\#(i)?"}}]}"#.utf8)
    }

    /// Writes `events` signed webhooks to `file` for wrk's script (`WrkLoad.script`), one a line:
    /// the `X-Line-Signature` value, a tab, the body. Streamed: a large plan is never held in memory.
    static func writeSigned(events: Int, seed: String, to file: URL) throws {
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path])
        }
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        let start = Int64(Date().timeIntervalSince1970 * 1000)
        var chunk = Data()
        for i in 0..<events {
            let body = body(i, seed: seed, start: start)
            chunk.append(contentsOf: Signatures.hmacSHA256Base64(secret: lineSecret, body: body).utf8)
            chunk.append(UInt8(ascii: "\t"))
            chunk.append(body)
            chunk.append(UInt8(ascii: "\n"))
            if chunk.count > 1 << 20 {
                try handle.write(contentsOf: chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        try handle.write(contentsOf: chunk)
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
