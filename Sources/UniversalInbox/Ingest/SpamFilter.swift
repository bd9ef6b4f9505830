import Foundation
import GRDB

/// The learning spam filter: naive Bayes over the words of customers' messages, trained by agents'
/// spam / not-spam decisions. A word counts once per ticket; words never seen in training are
/// ignored; Laplace smoothing. Japanese and Chinese text (no spaces) is read as character pairs.
public enum SpamWords {
    public static func tokens(_ text: String) -> Set<String> {
        var tokens: Set<String> = []
        var word = ""
        var previousCJK: Character?
        func flush() {
            if word.count >= 2, word.count <= 30 { tokens.insert(word) }
            word = ""
        }
        for character in text.lowercased() {
            if character.unicodeScalars.contains(where: isCJK) {
                flush()
                if let previous = previousCJK { tokens.insert(String([previous, character])) }
                previousCJK = character
            } else {
                previousCJK = nil
                if character.isLetter || character.isNumber || character == "$" || character == "€" { word.append(character) } else { flush() }
            }
        }
        flush()
        return tokens
    }

    static func isCJK(_ scalar: Unicode.Scalar) -> Bool {
        (0x3040...0x30FF).contains(scalar.value) || (0x3400...0x9FFF).contains(scalar.value) || (0xAC00...0xD7AF).contains(scalar.value)
    }

    /// P(spam | tokens) from the counts, or nil with fewer than `minimum` tickets of either kind.
    static func probability(_ db: Database, tokens: Set<String>, minimum: Int) throws -> Double? {
        let spamDocs = try Int.fetchOne(db, sql: "SELECT count(*) FROM spam_training WHERE label = 'spam'") ?? 0
        let hamDocs = try Int.fetchOne(db, sql: "SELECT count(*) FROM spam_training WHERE label = 'ham'") ?? 0
        guard spamDocs >= minimum, hamDocs >= minimum else { return nil }
        var logSpam = log(Double(spamDocs) / Double(spamDocs + hamDocs))
        var logHam = log(Double(hamDocs) / Double(spamDocs + hamDocs))
        let lookup = try db.cachedStatement(sql: "SELECT spam, ham FROM spam_tokens WHERE token = ?")
        for token in tokens {
            guard let row = try Row.fetchOne(lookup, arguments: [token]) else { continue }
            logSpam += log((Double(row["spam"] as Int) + 1) / Double(spamDocs + 2))
            logHam += log((Double(row["ham"] as Int) + 1) / Double(hamDocs + 2))
        }
        return 1 / (1 + exp(logHam - logSpam))
    }
}

extension Inbox {
    /// Marks a ticket as spam (it moves to the spam box) or restores it (open again), and teaches
    /// the filter with the ticket's customer messages. Deciding again re-labels, never double-counts.
    public func markSpam(ticketId: Int64, _ spam: Bool, by actor: Caller) async throws -> TicketSummary {
        let now = clock().ms
        let status: TicketStatus = spam ? .spam : .open
        try await database.pool.write { db in
            try Self.authorize(db, actor, ticketId: ticketId, for: .answer)
            let current = try Self.assignable(db, ticketId)
            try db.execute(sql: """
                UPDATE tickets SET status = ?, updated_at = ?, resolved_at = NULL, queued_at = CASE WHEN ? THEN NULL ELSE queued_at END,
                    resolution_reason = CASE WHEN ? THEN 'spam' ELSE NULL END
                WHERE id = ?
                """, arguments: [status.rawValue, now, spam, spam, ticketId])
            try Self.record(db, ticketId: ticketId, spam ? "marked_spam" : "restored_from_spam", by: actor.label, ["from": current["status"]], at: now)
            try Self.train(db, ticketId: ticketId, label: spam ? "spam" : "ham")
        }
        bus.publish([.ticketStatusChanged(ticketId: ticketId, status: status)])
        return try await summary(ticketId)
    }

    /// Sets how many tickets of each kind the filter needs before it screens (from the config, at start).
    public func setSpamMinimum(_ minimum: Int) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE spam_state SET minimum = ? WHERE id = 1", arguments: [max(1, minimum)])
            try Self.refreshSpamState(db)
        }
    }

    /// The filter's spam probability for a text, or nil while it has fewer than `minimum` examples of each kind.
    public func spamProbability(of text: String, minimum: Int = 5) async throws -> Double? {
        try await database.pool.read { db in try SpamWords.probability(db, tokens: SpamWords.tokens(text), minimum: minimum) }
    }

    /// Screens tickets opened since the last run: at or above `threshold` they go to the spam box
    /// (status spam, recorded in the history with the probability) instead of the queue.
    @discardableResult
    public func screenNewTickets(threshold: Double, minimum: Int = 5, limit: Int = 200) async throws -> [Int64] {
        let now = clock().ms
        // Nothing waiting (the usual case while the filter is untrained): no write.
        guard try await database.pool.read({ db in try Bool.fetchOne(db, sql: "SELECT 1 FROM tickets WHERE screened = 0 LIMIT 1") }) != nil else {
            return []
        }
        let flagged: [Int64] = try await database.pool.write { db in
            var flagged: [Int64] = []
            for ticketId in try Int64.fetchAll(db, sql: "SELECT id FROM tickets WHERE screened = 0 ORDER BY id LIMIT ?", arguments: [limit]) {
                let text = try String.fetchAll(db, sql: "SELECT text FROM messages WHERE ticket_id = ? AND direction = 'in'", arguments: [ticketId])
                    .joined(separator: "\n")
                let probability = try SpamWords.probability(db, tokens: SpamWords.tokens(text), minimum: minimum)
                if let probability, probability >= threshold {
                    try db.execute(sql: """
                        UPDATE tickets SET screened = 1, spam_score = ?, status = 'spam', queued_at = NULL, updated_at = ?
                        WHERE id = ? AND status IN ('new', 'open')
                        """, arguments: [probability, now, ticketId])
                    if db.changesCount == 1 {
                        try Self.record(db, ticketId: ticketId, "spam_filter", by: Caller.system.label, ["probability": String(format: "%.3f", probability)], at: now)
                        flagged.append(ticketId)
                    }
                }
                try db.execute(sql: "UPDATE tickets SET screened = 1, spam_score = coalesce(spam_score, ?) WHERE id = ?", arguments: [probability, ticketId])
            }
            return flagged
        }
        bus.publish(flagged.map { .ticketStatusChanged(ticketId: $0, status: .spam) })
        return flagged
    }

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
        try refreshSpamState(db)
    }

    /// Trained once there are `minimum` tickets of each kind.
    static func refreshSpamState(_ db: Database) throws {
        try db.execute(sql: """
            UPDATE spam_state SET trained = (SELECT count(*) FROM spam_training WHERE label = 'spam') >= minimum
                AND (SELECT count(*) FROM spam_training WHERE label = 'ham') >= minimum
            WHERE id = 1
            """)
    }
}
