import ArgumentParser
import BenchmarkSupport
import ChannelKit
import Foundation
import UniversalInbox

extension IngestBenchmark {
    /// The SQLite writer alone, in this process: no HTTP, no JSON, no signatures. The same events
    /// as `run` sends (text from 1,000 customers, no names: each new one queues a profile look-up),
    /// filed in groups as the ingest queue forms them. What a change to the SQL of filing is worth
    /// without the server around it; compare several runs, as figures vary by a tenth run to run here.
    /// Last, the search indexer's work for the same messages.
    struct Store: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "store", abstract: "CPU per event of the SQLite ingest writer alone.")

        @Flag(help: "Small runs for CI.") var quick = false
        @Option(help: "Events in each pass.") var events = 60_000
        @Option(help: "Webhooks in each group commit.") var group = 32

        func run() async throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ingest-store-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let database = try AppDatabase(path: directory.appendingPathComponent("bridge.sqlite").path)
            let store = SQLiteIngestStore(database: database)
            let count = quick ? 6_000 : events
            say("ingest store benchmark: SQLite writer alone, \(count) events a pass in groups of \(group)\(quick ? " (quick)" : "")")
            // The first pass meets every customer (1,000 of its events are a new one's); the second finds them all known.
            for pass in ["first pass, 1,000 customers new", "second pass, every customer known"] {
                let seed = UUID().uuidString.prefix(6).lowercased()
                let webhooks = (0..<count).map { i in Self.webhook(i, seed: seed) }
                let cpu = try Self.ownCPU()
                let clock = ContinuousClock.now
                var stored = 0
                for start in stride(from: 0, to: webhooks.count, by: group) {
                    let results = await store.file(Array(webhooks[start..<min(start + group, webhooks.count)]), now: Date())
                    for result in results { stored += try result.get().stored }
                }
                let seconds = clock.duration(to: .now)
                let used = try Self.ownCPU() - cpu
                guard stored == count else { throw BenchmarkError("\(stored) of \(count) events stored") }
                say(String(format: "  %@: %6.1f µs CPU an event, %7.0f events/s", pass, used / Double(count) * 1e6,
                    Double(count) / seconds.seconds))
            }
            // Then what `SearchIndexer` does after those commits, on the same writer: both passes'
            // messages into the full-text index, in its batches.
            let queries = SQLiteTicketQueryStore(database: database)
            let cpu = try Self.ownCPU()
            var indexed = 0
            while case let added = try await queries.indexNewMessages(limit: 2_000), added > 0 { indexed += added }
            guard indexed == 2 * count else { throw BenchmarkError("\(indexed) of \(2 * count) messages indexed") }
            say(String(format: "  search index, batches of 2,000: %6.1f µs CPU a message", (try Self.ownCPU() - cpu) / Double(indexed) * 1e6))
        }

        static let account = ChannelAccountRef(kind: .line, id: "bench")

        /// Webhook `i`: a text message from customer `i % LoadPlan.customers`, as `LoadPlan.body` sends it.
        static func webhook(_ i: Int, seed: String) -> WebhookEvents {
            let sender = Sender(id: String(format: "U%032x", i % LoadPlan.customers))
            let message = InboundMessage(id: "\(seed)\(i)", content: .text("Where is my order #\(i)?"), replyToken: "rt\(i)")
            return WebhookEvents(account: account, events: [
                InboundEvent(kind: .message, eventId: "\(seed)-\(i)", occurredAt: Date(), sender: sender, message: message)
            ])
        }

        /// This process's CPU seconds, user and system, every thread (the writer runs on GRDB's).
        static func ownCPU() throws -> Double {
            guard let cpu = ProcessCPU.read(ProcessInfo.processInfo.processIdentifier) else { throw BenchmarkError("could not read this process's CPU time") }
            return cpu.own
        }
    }
}
