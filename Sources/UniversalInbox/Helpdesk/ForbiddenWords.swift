import Foundation

/// A forbidden word found in a draft: where it is, in characters from the start.
public struct ForbiddenMatch: Sendable, Equatable, Codable {
    public var word: String
    public var start: Int
    public var end: Int
}

extension Inbox {
    public func addForbiddenWord(_ word: String) async throws -> [String] {
        guard TextRules.isName(word, maxLength: 100) else {
            throw InboxError.invalid(code: "invalid_word", message: "a forbidden word is 1 to 100 characters, not all blank")
        }
        let word = word.trimmingCharacters(in: .whitespacesAndNewlines)
        try await stores.forbiddenWordStore.add(word, at: clock())
        return try await forbiddenWords()
    }

    public func removeForbiddenWord(_ word: String) async throws -> [String] {
        guard try await stores.forbiddenWordStore.remove(word) else { throw InboxError.notFound("forbidden word \"\(word)\"") }
        return try await forbiddenWords()
    }

    public func forbiddenWords() async throws -> [String] {
        try await stores.forbiddenWordStore.words()
    }

    /// Forbidden words in `text`, in order: whole words for words in Latin letters (so "ass" does not
    /// match "class"), anywhere for scripts without spaces (Japanese, Chinese); case-insensitive.
    public func forbiddenMatches(in text: String) async throws -> [ForbiddenMatch] {
        let words = try await forbiddenWords()
        var matches: [ForbiddenMatch] = []
        for word in words {
            let escaped = NSRegularExpression.escapedPattern(for: word)
            let wordLike = word.unicodeScalars.allSatisfy { $0.isASCII }
            let pattern = wordLike ? "(?<![\\p{L}\\p{N}])\(escaped)(?![\\p{L}\\p{N}])" : escaped
            guard let regex = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]) else { continue }
            for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                guard let range = Range(match.range, in: text) else { continue }
                matches.append(ForbiddenMatch(
                    word: word, start: text.distance(from: text.startIndex, to: range.lowerBound),
                    end: text.distance(from: text.startIndex, to: range.upperBound)))
            }
        }
        return matches.sorted { ($0.start, $0.word) < ($1.start, $1.word) }
    }
}
