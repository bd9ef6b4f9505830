import ChannelKit
import Foundation

/// JSON columns (public for the PostgreSQL store, which writes the same JSON).
public enum ContentCoding {
    /// One encoder and decoder for every call: making them per call was a tenth of the JSON work of
    /// filing a message (both are thread-safe; their settings never change after this).
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
    private static let decoder = JSONDecoder()

    public static func encode(_ value: some Encodable) throws -> String {
        if let content = value as? MessageContent, let json = plainText(content) { return json }
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public static func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try decoder.decode(T.self, from: Data(json.utf8))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// A plain text message's JSON, byte for byte what `encoder` writes for it, written directly:
    /// text is most of what customers send, and JSONEncoder's generic walk was a seventh of the
    /// ingest writer's CPU for it. Nil for any other content (the encoder writes those).
    static func plainText(_ content: MessageContent) -> String? {
        guard content.kind == .text, let text = content.text, content == .text(text) else { return nil }
        var json: [UInt8] = []
        json.reserveCapacity(text.utf8.count + 32)
        json.append(contentsOf: #"{"kind":"text","text":""#.utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): json.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): json.append(contentsOf: #"\\"#.utf8)
            case 0x08: json.append(contentsOf: #"\b"#.utf8)
            case 0x0C: json.append(contentsOf: #"\f"#.utf8)
            case 0x0A: json.append(contentsOf: #"\n"#.utf8)
            case 0x0D: json.append(contentsOf: #"\r"#.utf8)
            case 0x09: json.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                json.append(contentsOf: #"\u00"#.utf8)
                json.append(hexDigits[Int(byte >> 4)])
                json.append(hexDigits[Int(byte & 0x0F)])
            default: json.append(byte)
            }
        }
        json.append(contentsOf: #""}"#.utf8)
        return String(decoding: json, as: UTF8.self)
    }
}
