import Foundation
import GRDB
import UniversalInbox

/// Fills the store with contacts, identities, tickets and messages in the schema's own shape,
/// written directly in large transactions (going through webhooks would measure ingest, not the inbox).
enum Generator {
    static let english = [
        "Where is my order %d?", "I would like a refund for order %d", "The parcel arrived damaged", "Can I change my delivery address?",
        "Thanks, that solved it", "Order %d still shows as processing", "Do you ship to Osaka?", "Please cancel order %d",
    ]
    static let japanese = ["注文%dはどこですか？", "配送が遅れています", "返品したいです", "ありがとうございました", "住所を変更できますか"]
    static let channels = ["line", "whatsapp", "messenger", "sms", "wechat", "instagram"]
    static let statuses = ["new", "open", "open", "pending", "resolved", "closed", "closed", "closed"]
    static let priorities = ["normal", "normal", "normal", "low", "high", "normal", "urgent", "normal"]
    static let tags = ["refund", "vip", "shipping", "complaint", "b2b"]
    static let agents = 40
    /// Agent 1 (`agent1@example.com`) can sign in with this password, so the page benchmark
    /// (`Benchmarks/web`) signs in as an agent with a realistic share of the inbox.
    static let agentPassword = "bench-password"
    /// bcrypt (cost 12, the bridge's default) of `agentPassword`, made once with `bridge agent add
    /// --password-stdin`: the hashing lives in the bridge executable, which this benchmark does not link.
    static let agentPasswordHash = "$2b$12$1Md62lns3QOqqxguIdEuWOegHE7z9fVSOyYCsfjeh5jh/AApZ8OBe"

    /// `longTicketMessages` > 0 gives the newest ticket (assigned to agent 1) that many messages
    /// instead of `messagesPerTicket`: the long conversation the page benchmark opens.
    static func fill(_ database: AppDatabase, tickets: Int, messagesPerTicket: Int, longTicketMessages: Int = 0) async throws {
        let batch = 5_000
        let base: Int64 = 1_700_000_000_000
        // 40 agents in 4 departments; three tickets in four assigned, one in ten tagged.
        try await database.pool.write { db in
            for d in 1...4 { try db.execute(sql: "INSERT INTO departments (id, name, created_at) VALUES (?, ?, ?)", arguments: [d, "Dept \(d)", base]) }
            for a in 1...agents {
                try db.execute(sql: """
                    INSERT INTO agents (id, email, name, role, password_hash, max_tickets, availability, created_at, updated_at)
                    VALUES (?, ?, ?, 'agent', ?, 50, 'online', ?, ?)
                    """, arguments: [a, "agent\(a)@example.com", "Agent \(a)", a == 1 ? agentPasswordHash : nil, base, base])
                try db.execute(sql: "INSERT INTO department_members (department_id, agent_id) VALUES (?, ?)", arguments: [(a - 1) % 4 + 1, a])
            }
        }
        for first in stride(from: 0, to: tickets, by: batch) {
            let last = min(first + batch, tickets)
            try await database.pool.write { db in
                let contact = try db.makeStatement(sql: "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (?, ?, ?, ?)")
                let identity = try db.makeStatement(sql: """
                    INSERT INTO identities (id, contact_id, account, channel, platform_user_id, display_name, phone, last_inbound_at, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                let ticket = try db.makeStatement(sql: """
                    INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at, resolved_at, agent_id, department_id, priority)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                let tag = try db.makeStatement(sql: "INSERT INTO ticket_tags (ticket_id, tag) VALUES (?, ?)")
                let channel = try db.makeStatement(sql: "INSERT INTO ticket_channels (ticket_id, channel) VALUES (?, ?)")
                let message = try db.makeStatement(sql: """
                    INSERT INTO messages (ticket_id, identity_id, direction, channel, account, content, text, status, idempotency_key, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                for i in first..<last {
                    let id = Int64(i + 1)
                    let kind = channels[i % channels.count]
                    let created = base + Int64(i) * 60_000
                    let name = (i % 3 == 0 ? "Kenji Sato " : i % 3 == 1 ? "Ana Souza " : "Lena Vogel ") + String(i)
                    try contact.execute(arguments: [id, name, created, created])
                    try identity.execute(arguments: [id, id, "\(kind)/main", kind, "user-\(i)", name, kind == "sms" || kind == "whatsapp" ? "1555\(i)" : nil, created, created])
                    let long = longTicketMessages > 0 && i == tickets - 1
                    let count = long ? longTicketMessages : messagesPerTicket
                    let status = long ? "open" : statuses[(i * 7) % statuses.count]
                    let updated = created + Int64(count) * 30_000
                    let agent: Int64? = long ? 1 : i % 4 == 3 ? nil : Int64(i % agents + 1)
                    let department = agent.map { ($0 - 1) % 4 + 1 } ?? Int64(i % 4 + 1)
                    try ticket.execute(arguments: [
                        id, id, status, id, created, updated, status == "resolved" ? updated : nil, agent, department, priorities[i % priorities.count],
                    ])
                    if i % 10 == 0 { try tag.execute(arguments: [id, tags[(i / 10) % tags.count]]) }
                    try channel.execute(arguments: [id, kind])
                    for m in 0..<count {
                        let inbound = m % 2 == 0
                        var text: String
                        if kind == "line" || kind == "wechat", inbound {
                            let phrase = japanese[(i + m) % japanese.count]
                            text = phrase.contains("%d") ? String(format: phrase, i % 10_000) : phrase
                        } else {
                            let phrase = english[(i * 3 + m) % english.count]
                            text = phrase.contains("%d") ? String(format: phrase, i % 10_000) : phrase
                        }
                        if long { text += " [\(m + 1)/\(count)]" }  // the newest one is unique: the page benchmark waits for it
                        let json = #"{"kind":"text","text":"\#(text)"}"#
                        try message.execute(arguments: [
                            id, id, inbound ? "in" : "out", kind, "\(kind)/main", json, text, inbound ? "received" : "delivered",
                            "k\(i)-\(m)", created + Int64(m) * 30_000, created + Int64(m) * 30_000,
                        ])
                    }
                }
            }
        }
    }
}
