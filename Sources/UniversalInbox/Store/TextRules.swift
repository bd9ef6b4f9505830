/// The rules for text the API takes, the same ones openapi.yaml states as JSON Schema, so that a
/// request the document calls valid is never refused for its text and one it calls invalid never
/// passes. Lengths are Unicode scalars (JSON Schema's `minLength`/`maxLength` count code points; a
/// Swift `Character` may hold many, "\r\n" is one). Blank means only the whitespace listed in the
/// document's `NonBlankText` pattern; an e-mail address is what its `Email` pattern says.
public enum TextRules {
    /// `CharacterSet.whitespacesAndNewlines`, spelled out: openapi.yaml's patterns list these, not
    /// a regex engine's `\s` (which differs between engines).
    static let whitespace: Set<Unicode.Scalar> = Set(
        [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000].compactMap(Unicode.Scalar.init(_:))
            + (0x2000...0x200A).compactMap(Unicode.Scalar.init(_:)))

    /// The length JSON Schema gives `text`: its Unicode scalars.
    public static func length(_ text: String) -> Int { text.unicodeScalars.count }

    /// Whether `text` has nothing but whitespace (or nothing at all).
    public static func isBlank(_ text: String) -> Bool { text.unicodeScalars.allSatisfy(whitespace.contains) }

    /// Not blank, and at most `maxLength` scalars.
    public static func isName(_ text: String, maxLength: Int) -> Bool { !isBlank(text) && length(text) <= maxLength }

    /// At most 254 scalars: a local part, `@`, and a domain of dot-separated labels, none of them
    /// empty, without whitespace or another `@` (`^[^@W]+@[^@W.]+(\.[^@W.]+)+$` in the document).
    public static func isEmail(_ text: String) -> Bool {
        // Scalars, not `Character`s: "@" followed by a combining mark or an emoji modifier is one
        // `Character`, and would not be split there.
        let scalars = text.unicodeScalars
        guard scalars.count <= 254, !scalars.contains(where: whitespace.contains) else { return false }
        let parts = scalars.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else { return false }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { !$0.isEmpty }
    }
}
