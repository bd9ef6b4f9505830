import Foundation

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

    /// P(spam | tokens) from the training counts, or nil with fewer than `minimum` tickets of either
    /// kind. Words are taken in sorted order, so the sum (and so the answer) is the same whichever
    /// database the counts came from.
    public static func probability(_ tokens: Set<String>, counts: SpamCounts, minimum: Int) -> Double? {
        let spamDocs = counts.spamTickets, hamDocs = counts.hamTickets
        guard spamDocs >= minimum, hamDocs >= minimum else { return nil }
        var logSpam = log(Double(spamDocs) / Double(spamDocs + hamDocs))
        var logHam = log(Double(hamDocs) / Double(spamDocs + hamDocs))
        for token in tokens.sorted() {
            guard let count = counts.tokens[token] else { continue }
            logSpam += log((Double(count.spam) + 1) / Double(spamDocs + 2))
            logHam += log((Double(count.ham) + 1) / Double(hamDocs + 2))
        }
        return 1 / (1 + exp(logHam - logSpam))
    }

    /// A probability as the history shows it.
    public static func shown(_ probability: Double) -> String {
        String(format: "%.3f", probability)
    }
}

extension Inbox {
    /// Marks a ticket as spam (it moves to the spam box) or restores it (open again), and teaches
    /// the filter with the ticket's customer messages. Deciding again re-labels, never double-counts.
    public func markSpam(ticketId: Int64, _ spam: Bool, by actor: Caller) async throws -> TicketSummary {
        try await stores.spamStore.mark(ticketId: ticketId, spam: spam, by: actor, at: clock(), check: { try actor.check(.answer, .ticket($0), places: $1) })
        bus.publish([.ticketStatusChanged(ticketId: ticketId, status: spam ? .spam : .open)])
        return try await summary(ticketId)
    }

    /// The spam threshold set in the console, or nil when bridge.yaml's is in force.
    public func spamThreshold() async throws -> Double? {
        try await stores.spamStore.threshold()
    }

    /// Sets the spam threshold every process screens with (nil: back to bridge.yaml's). The bounds
    /// are the configuration's: above 0.5 (below, the filter would call a coin toss spam) and at most 1.
    public func setSpamThreshold(_ threshold: Double?) async throws {
        if let threshold, !(threshold > 0.5 && threshold <= 1) {
            throw InboxError.unprocessable(code: "invalid_threshold", message: "the spam threshold is above 0.5 and at most 1, or null for bridge.yaml's")
        }
        try await stores.spamStore.setThreshold(threshold)
    }

    /// Sets how many tickets of each kind the filter needs before it screens (from the config, at start).
    public func setSpamMinimum(_ minimum: Int) async throws {
        try await stores.spamStore.setMinimum(minimum)
    }

    /// The filter's spam probability for a text, or nil while it has fewer than `minimum` examples of each kind.
    public func spamProbability(of text: String, minimum: Int = 5) async throws -> Double? {
        let tokens = SpamWords.tokens(text)
        return SpamWords.probability(tokens, counts: try await stores.spamStore.counts(of: tokens), minimum: minimum)
    }

    /// Screens tickets opened since the last run: at or above the threshold in force they go to the
    /// spam box (status spam, recorded in the history with the probability) instead of the queue.
    /// The threshold in force is the console's (`setSpamThreshold`), read from the database at each
    /// run so every process follows a change without a restart, else `threshold` (bridge.yaml's).
    @discardableResult
    public func screenNewTickets(threshold configured: Double, minimum: Int = 5, limit: Int = 200) async throws -> [Int64] {
        let threshold = try await stores.spamStore.threshold() ?? configured
        let flagged = try await stores.spamStore.screen(threshold: threshold, minimum: minimum, limit: limit, at: clock())
        bus.publish(flagged.map { .ticketStatusChanged(ticketId: $0, status: .spam) })
        return flagged
    }
}
