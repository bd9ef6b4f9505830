import ArgumentParser
import Foundation
import Logging
import UniversalInbox

extension Bridge {
    /// `bridge agent add`: agents from the command line (the first owner in particular).
    struct AgentCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "agent", abstract: "Manage agents.", subcommands: [Add.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Add an agent. The password is read from standard input (one line) with --password-stdin.")
            @OptionGroup var options: ConfigOption
            @Option(help: "The agent's e-mail address (their login).") var email: String
            @Option(help: "The name customers and colleagues see.") var name: String
            @Option(help: "owner, admin or agent.") var role: String = "agent"
            @Option(help: "Most tickets assigned at once.") var maxTickets: Int = 5
            @Option(name: .customLong("department"), help: "A department to join (by name; created if new). Repeatable.")
            var departments: [String] = []
            @Flag(help: "Read a password from standard input so the agent can log in.") var passwordStdin = false
            @Flag(help: "Print a new API token for the agent.") var token = false

            func run() async throws {
                let config = try options.load()
                guard let role = AgentRole(rawValue: role) else { throw ValidationError("--role must be owner, admin or agent") }
                var passwordHash: String?
                if passwordStdin {
                    guard let line = readLine(strippingNewline: true) else { throw ValidationError("no password on standard input") }
                    do {
                        passwordHash = try Passwords.hash(line, cost: config.bcryptCost)
                    } catch let error as PasswordError {
                        throw ValidationError(error.message)
                    }
                }
                // SQLite or PostgreSQL: no serving lock, so this works beside a running bridge.
                var logger = Logger(label: "bridge")
                logger.logLevel = .warning
                try await ServedDatabase.with(config, logger: logger) { database in
                    try await add(to: Inbox(stores: database.stores(logger: logger)), role: role, passwordHash: passwordHash)
                }
            }

            private func add(to inbox: Inbox, role: AgentRole, passwordHash: String?) async throws {
                do {
                    var departmentIds: [Int64] = []
                    let existing = try await inbox.departments()
                    for name in departments {
                        if let found = existing.first(where: { $0.name.caseInsensitiveCompare(name) == .orderedSame }) {
                            departmentIds.append(found.id)
                        } else {
                            departmentIds.append(try await inbox.createDepartment(name: name).id)
                        }
                    }
                    let agent = try await inbox.createAgent(
                        NewAgent(email: email, name: name, role: role, passwordHash: passwordHash, maxTickets: maxTickets, departments: departmentIds))
                    print("agent \(agent.id) added: \(agent.name) <\(agent.email)>, \(agent.role.rawValue)")
                    if token {
                        let value = AccessTokens.generate()
                        try await inbox.storeToken(digest: AccessTokens.digest(value), agentId: agent.id, kind: "api", label: "cli", expiresAt: nil)
                        print("API token (shown once): \(value)")
                    }
                } catch let error as InboxError {
                    throw StartupError(description: "\(error)")
                }
            }
        }
    }
}
