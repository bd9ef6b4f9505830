import ChannelKit
import Foundation
import TestSupport
import Testing
@testable import UniversalInbox

/// `ContentCoding.encode` writes plain text itself, without JSONEncoder: the column must hold what
/// JSONEncoder (sorted keys, slashes unescaped) would have written, byte for byte, and read back.
@Suite struct ContentCodingTests {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func expected(_ content: MessageContent) throws -> String {
        String(decoding: try encoder.encode(content), as: UTF8.self)
    }

    @Test(arguments: [
        "", "hello", "Where is my order #12?", #"say "hi" \ back"#, "a/b</script>", "line\nbreak\r\ttab\u{08}\u{0C}",
        "\u{00}\u{01}\u{1F}\u{7F}", "注文はどこですか？", "emoji 👍🏽 and \u{2028}\u{2029}", "é composed e\u{301}",
    ])
    func plainTextIsJSONEncodersBytes(_ text: String) throws {
        let content = MessageContent.text(text)
        #expect(ContentCoding.plainText(content) != nil)
        #expect(try ContentCoding.encode(content) == Self.expected(content))
        #expect(try ContentCoding.decode(MessageContent.self, try ContentCoding.encode(content)) == content)
    }

    /// Every control character and a few thousand random strings of mixed scripts.
    @Test func generatedTextsAreJSONEncodersBytes() throws {
        var random = SplitMix64(seed: 20_261_130)
        let pieces = ["a", "Z", "9", " ", "\"", "\\", "/", "\n", "\r", "\t", "日本", "ü", "🙂", "\u{2028}", "\u{7F}", "\u{FEFF}"]
        var texts = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }
        for _ in 0..<3_000 {
            texts.append((0..<random.below(24)).map { _ in pieces[random.below(pieces.count)] }.joined())
        }
        for text in texts {
            let content = MessageContent.text(text)
            #expect(try ContentCoding.encode(content) == Self.expected(content), "\(text.unicodeScalars.map { $0.value })")
        }
    }

    /// Anything but plain text goes through the encoder.
    @Test func otherContentIsLeftToTheEncoder() throws {
        let others = [
            MessageContent(kind: .text, text: "pick one", choices: [.init(label: "Good", payload: "rating:good")]),
            MessageContent(kind: .postback, text: "Yes", postback: "yes"),
            MessageContent(kind: .text),
            MessageContent(kind: .unsupported, text: "sticker"),
        ]
        for content in others {
            #expect(ContentCoding.plainText(content) == nil)
            #expect(try ContentCoding.encode(content) == Self.expected(content))
        }
    }
}
