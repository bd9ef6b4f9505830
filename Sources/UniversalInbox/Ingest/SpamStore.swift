import Foundation
import GRDB

/// What the learning spam filter keeps in the store: each trained ticket's label and words, the
/// word counts (shared by every process on the database), how many tickets of each kind it needs,
/// and which new tickets it has screened. One implementation per database (`SQLiteSpamStore`
/// below, `PostgresSpamStore` in PostgresStore), held to one contract (Tests/StoreTests). Each
/// method is one transaction with no policy: the domain (`Inbox.markSpam`, ...) passes in who may
/// act (`check`) and publishes on the bus. The arithmetic is `SpamWords.probability`, the same on
/// both databases. Times are passed in.
public protocol SpamStore: Sendable {
    /// Moves a ticket to the spam box (`spam`: status spam, out of the queue) or restores it (open
    /// again), records `marked_spam` / `restored_from_spam` with the status it had, and trains the
    /// filter with the ticket's customer messages under the new label: a ticket counts once, as its
    /// latest label. Refuses, changing nothing: `notFound`, what `check` throws, `ticket_closed`.
    func mark(ticketId: Int64, spam: Bool, by actor: Caller, at now: Date, check: @escaping TicketCheck) async throws

    /// Sets how many tickets of each kind the filter needs before it screens (at least 1).
    func setMinimum(_ minimum: Int) async throws

    /// The threshold set in the console, or nil for the configured one (bridge.yaml's).
    func threshold() async throws -> Double?

    /// Sets (nil: clears) the console's threshold; the domain has checked its bounds.
    func setThreshold(_ threshold: Double?) async throws

    /// How many tickets of each kind trained the filter, and the counts of those of `tokens` it has seen.
    func counts(of tokens: Set<String>) async throws -> SpamCounts

    /// Screens up to `limit` unscreened tickets, oldest first: at or above `threshold` a new or open
    /// one goes to the spam box (status spam, out of the queue, `spam_filter` in its history with
    /// the probability); every one is marked screened with its score. A ticket is screened once,
    /// also when two processes screen at once. Returns the tickets sent to the spam box.
    func screen(threshold: Double, minimum: Int, limit: Int, at now: Date) async throws -> [Int64]
}

/// The filter's training as far as one text needs it.
public struct SpamCounts: Sendable, Equatable {
    /// Tickets trained as spam and as not spam.
    public var spamTickets: Int
    public var hamTickets: Int
    /// For each word seen in training: in how many spam and not-spam tickets.
    public var tokens: [String: TokenCount]

    public struct TokenCount: Sendable, Equatable {
        public var spam: Int
        public var ham: Int

        public init(spam: Int, ham: Int) {
            self.spam = spam
            self.ham = ham
        }
    }

    public init(spamTickets: Int, hamTickets: Int, tokens: [String: TokenCount]) {
        self.spamTickets = spamTickets
        self.hamTickets = hamTickets
        self.tokens = tokens
    }
}

/// `SpamStore` on SQLite: one writer at a time, so training and screening never race.
public struct SQLiteSpamStore: SpamStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func mark(ticketId: Int64, spam: Bool, by actor: Caller, at now: Date, check: @escaping TicketCheck) async throws {
        let now = now.ms
        let status: TicketStatus = spam ? .spam : .open
        try await database.pool.write { db in
            guard let places = try SQLiteAccessStore.places(db, of: .ticket(ticketId)) else { throw InboxError.notFound("ticket \(ticketId)") }
            try check(ticketId, places)
            let current = try Inbox.assignable(db, ticketId)
            try db.execute(sql: """
                UPDATE tickets SET status = ?, updated_at = ?, resolved_at = NULL, queued_at = CASE WHEN ? THEN NULL ELSE queued_at END,
                    resolution_reason = CASE WHEN ? THEN 'spam' ELSE NULL END
                WHERE id = ?
                """, arguments: [status.rawValue, now, spam, spam, ticketId])
            try Inbox.record(db, ticketId: ticketId, spam ? "marked_spam" : "restored_from_spam", by: actor.label, ["from": current["status"]], at: now)
            try Self.train(db, ticketId: ticketId, label: spam ? "spam" : "ham")
        }
    }

    public func setMinimum(_ minimum: Int) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE spam_state SET minimum = ? WHERE id = 1", arguments: [max(1, minimum)])
            try Self.refreshState(db)
        }
    }

    public func threshold() async throws -> Double? {
        try await database.pool.read { db in try Double.fetchOne(db, sql: "SELECT threshold FROM spam_state WHERE id = 1") }
    }

    public func setThreshold(_ threshold: Double?) async throws {
        try await database.pool.write { db in try db.execute(sql: "UPDATE spam_state SET threshold = ? WHERE id = 1", arguments: [threshold]) }
    }

    public func counts(of tokens: Set<String>) async throws -> SpamCounts {
        try await database.pool.read { db in try Self.counts(db, of: tokens) }
    }

    public func screen(threshold: Double, minimum: Int, limit: Int, at now: Date) async throws -> [Int64] {
        let now = now.ms
        // Nothing waiting (the usual case while the filter is untrained): no write.
        guard try await database.pool.read({ db in try Bool.fetchOne(db, sql: "SELECT 1 FROM tickets WHERE screened = 0 LIMIT 1") }) != nil else {
            return []
        }
        return try await database.pool.write { db in
            var flagged: [Int64] = []
            for ticketId in try Int64.fetchAll(db, sql: "SELECT id FROM tickets WHERE screened = 0 ORDER BY id LIMIT ?", arguments: [limit]) {
                let text = try String.fetchAll(db, sql: "SELECT text FROM messages WHERE ticket_id = ? AND direction = 'in'", arguments: [ticketId])
                    .joined(separator: "\n")
                let tokens = SpamWords.tokens(text)
                let probability = SpamWords.probability(tokens, counts: try Self.counts(db, of: tokens), minimum: minimum)
                if let probability, probability >= threshold {
                    try db.execute(sql: """
                        UPDATE tickets SET screened = 1, spam_score = ?, status = 'spam', queued_at = NULL, updated_at = ?
                        WHERE id = ? AND status IN ('new', 'open')
                        """, arguments: [probability, now, ticketId])
                    if db.changesCount == 1 {
                        try Inbox.record(db, ticketId: ticketId, "spam_filter", by: Caller.system.label, ["probability": SpamWords.shown(probability)], at: now)
                        flagged.append(ticketId)
                    }
                }
                try db.execute(sql: "UPDATE tickets SET screened = 1, spam_score = coalesce(spam_score, ?) WHERE id = ?", arguments: [probability, ticketId])
            }
            return flagged
        }
    }

    static func counts(_ db: Database, of tokens: Set<String>) throws -> SpamCounts {
        let spamTickets = try Int.fetchOne(db, sql: "SELECT count(*) FROM spam_training WHERE label = 'spam'") ?? 0
        let hamTickets = try Int.fetchOne(db, sql: "SELECT count(*) FROM spam_training WHERE label = 'ham'") ?? 0
        let lookup = try db.cachedStatement(sql: "SELECT spam, ham FROM spam_tokens WHERE token = ?")
        var counts: [String: SpamCounts.TokenCount] = [:]
        for token in tokens {
            guard let row = try Row.fetchOne(lookup, arguments: [token]) else { continue }
            counts[token] = SpamCounts.TokenCount(spam: row["spam"], ham: row["ham"])
        }
        return SpamCounts(spamTickets: spamTickets, hamTickets: hamTickets, tokens: counts)
    }

    /// Teaches the filter a ticket's customer words under `label` inside the caller's transaction;
    /// a ticket trained before under the other label has its old counts taken back first.
    static func train(_ db: Database, ticketId: Int64, label: String) throws {
        if let previous = try Row.fetchOne(db, sql: "SELECT label, tokens FROM spam_training WHERE ticket_id = ?", arguments: [ticketId]) {
            if previous["label"] == label { return }
            let column = previous["label"] == "spam" ? "spam" : "ham"
            for token in try ContentCoding.decode([String].self, previous["tokens"]) {
                try db.execute(sql: "UPDATE spam_tokens SET \(column) = max(\(column) - 1, 0) WHERE token = ?", arguments: [token])
            }
        }
        let text = try String.fetchAll(db, sql: "SELECT text FROM messages WHERE ticket_id = ? AND direction = 'in'", arguments: [ticketId])
        let tokens = SpamWords.tokens(text.joined(separator: "\n")).sorted()
        let column = label == "spam" ? "spam" : "ham"
        for token in tokens {
            try db.execute(sql: """
                INSERT INTO spam_tokens (token, \(column)) VALUES (?, 1) ON CONFLICT (token) DO UPDATE SET \(column) = \(column) + 1
                """, arguments: [token])
        }
        try db.execute(
            sql: "INSERT OR REPLACE INTO spam_training (ticket_id, label, tokens) VALUES (?, ?, ?)",
            arguments: [ticketId, label, try ContentCoding.encode(tokens)])
        try refreshState(db)
    }

    /// Trained once there are `minimum` tickets of each kind.
    static func refreshState(_ db: Database) throws {
        try db.execute(sql: """
            UPDATE spam_state SET trained = (SELECT count(*) FROM spam_training WHERE label = 'spam') >= minimum
                AND (SELECT count(*) FROM spam_training WHERE label = 'ham') >= minimum
            WHERE id = 1
            """)
    }
}
