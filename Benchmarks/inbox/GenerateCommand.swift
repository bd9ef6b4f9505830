import ArgumentParser
import BenchmarkSupport
import Foundation
import UniversalInbox

/// `InboxBenchmark generate --path X`: the benchmark inbox written to a SQLite file that `bridge
/// serve` opens as it is (same migrations, full-text index built), with one 1,000-message ticket
/// and an agent who can sign in. The page benchmark (`Benchmarks/web/page_benchmark.py`) serves it.
struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Write the benchmark inbox to a SQLite file.")

    @Option(help: "Where to write the database (must not exist yet).") var path: String
    @Flag(help: "10,000 tickets and 100,000 messages instead of 100,000 and 1,000,000.") var quick = false
    @Option(help: "Messages of the newest ticket (assigned to agent 1).") var longTicket = 1_000

    func run() async throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw ValidationError("\(path) exists already; give a new path") }
        let tickets = quick ? 10_000 : 100_000
        let perTicket = 10
        let start = ContinuousClock.now
        let database = try AppDatabase(path: path)
        try await Generator.fill(database, tickets: tickets, messagesPerTicket: perTicket, longTicketMessages: longTicket)
        let inbox = Inbox(database: database)
        while try await inbox.indexNewMessages(limit: 50_000) > 0 {}
        let messages = (tickets - 1) * perTicket + longTicket
        say("generated \(path): \(tickets) tickets, \(messages) messages (ticket \(tickets) has \(longTicket)) in \(seconds(ContinuousClock.now - start)) s")
        say("sign in as agent1@example.com / \(Generator.agentPassword)")
    }
}
