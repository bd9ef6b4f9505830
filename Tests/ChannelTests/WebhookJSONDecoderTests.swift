import ChannelKit
import Foundation
import TestSupport
import Testing

/// `WebhookJSONDecoder` reads what `JSONDecoder` reads, the same way, and refuses what it refuses:
/// every fixture body, generated documents, mutated fixture bodies, and typed decoding with its
/// errors (compared through `PlatformAPI.describe`, the words a kept unreadable event carries).
@Suite struct WebhookJSONDecoderTests {
    /// Both decoders' reading of `data` as any JSON value, or the error's words.
    static func both(_ data: Data) -> (foundation: Result<JSONValue, DescribedError>, ours: Result<JSONValue, DescribedError>) {
        (Result { try JSONDecoder().decode(JSONValue.self, from: data) }.mapError(DescribedError.init),
         Result { try WebhookJSONDecoder.decode(JSONValue.self, from: data) }.mapError(DescribedError.init))
    }

    struct DescribedError: Error, Equatable {
        var words: String
        init(_ error: any Error) { words = PlatformAPI.describe(error) }
        init(words: String) { self.words = words }
    }

    static var bodies: [URL] {
        let kinds = ["line", "messenger", "instagram", "slack", "webchat", "sms"]
        return kinds.flatMap { kind -> [URL] in
            let dir = FixtureCase.root.appendingPathComponent(kind)
            return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
                .map { dir.appendingPathComponent($0) }
        }
    }

    @Test func everyFixtureBodyReadsTheSame() throws {
        #expect(Self.bodies.count > 40)
        for url in Self.bodies {
            let data = try Data(contentsOf: url)
            let (foundation, ours) = Self.both(data)
            #expect(foundation == ours, "\(url.lastPathComponent)")
        }
    }

    @Test func generatedDocumentsReadTheSame() throws {
        var random = SplitMix64(seed: 12)
        for _ in 0..<3000 {
            let text = Self.document(depth: 0, &random)
            let (foundation, ours) = Self.both(Data(text.utf8))
            #expect(foundation == ours, "\(text)")
            if case .failure = ours { Issue.record("refused valid JSON: \(text)") }
        }
    }

    /// Fixture bodies with bytes changed, cut or repeated: each is refused by both or read the same by both.
    @Test func mutatedBodiesAreRefusedOrReadTheSame() throws {
        var random = SplitMix64(seed: 7)
        let bodies = try Self.bodies.map { try [UInt8](Data(contentsOf: $0)) }
        var refused = 0
        for round in 0..<20_000 {
            var bytes = bodies[round % bodies.count]
            for _ in 0...random.below(3) where !bytes.isEmpty {
                let at = random.below(bytes.count)
                switch random.below(4) {
                case 0: bytes[at] = Self.interesting[random.below(Self.interesting.count)]
                case 1: bytes[at] = UInt8(truncatingIfNeeded: random.next())
                case 2: bytes.removeSubrange(at...)
                default: bytes.insert(bytes[at], at: at)
                }
            }
            // Both refuse (JSONDecoder finds a bad string only when it reads it, so its words may differ), or both read the same.
            switch Self.both(Data(bytes)) {
            case (.failure, .failure): refused += 1
            case (let foundation, let ours): #expect(foundation == ours, "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
        #expect(refused > 5000)
    }

    static let interesting: [UInt8] = Array(#"{}[]",:\"0123456789-+.eEtfnu "#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC0, 0xE3, 0xED, 0xF4, 0xFF]

    @Test(arguments: [
        "", " ", "{", "}", "[,]", "{,}", "[1,,]", "{\"a\":1,,}", "{\"a\" 1}", "{a:1}", "[01]", "[1.]", "[.5]", "[+1]", "[1e]", "[-]", "tru", "nul",
        "[\"\\x\"]", "[\"\\u12\"]", "[\"\\ud800\"]", "[\"\\udc00\"]", "[\"\\ud800\\u0041\"]", "[\"a\tb\"]", "[1] [2]", "[NaN]", "[Infinity]",
        "{\"a\":1}}", "[\"\u{7F}\"", "'a'",
        "[1e400]", "{\"a\":[-1e400]}",  // JSON, but no JSONValue: a number that fits neither Int64 nor Double
    ])
    func malformedIsRefusedByBoth(_ text: String) {
        let (foundation, ours) = Self.both(Data(text.utf8))
        #expect(throws: (any Error).self) { try foundation.get() }
        #expect(throws: (any Error).self) { try ours.get() }
    }

    @Test func invalidUTF8IsRefused() throws {
        for bytes: [UInt8] in [[0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xE3, 0x81, 0x22]] {
            #expect(throws: DecodingError.self) { try WebhookJSONDecoder.decode(String.self, from: Data(bytes)) }
        }
        #expect(try WebhookJSONDecoder.decode(String.self, from: Data("\"こんにちは 😀 \\ud83d\\ude00\"".utf8)) == "こんにちは 😀 😀")
    }

    @Test func nestingIsLimited() throws {
        let deep = String(repeating: "[", count: WebhookJSONDecoder.maxDepth) + String(repeating: "]", count: WebhookJSONDecoder.maxDepth)
        #expect(throws: Never.self) { try WebhookJSONDecoder.decode(JSONValue.self, from: Data(deep.utf8)) }
        let tooDeep = "[" + deep + "]"
        #expect(throws: DecodingError.self) { try WebhookJSONDecoder.decode(JSONValue.self, from: Data(tooDeep.utf8)) }
        // A million open brackets: refused at the limit, not by running out of stack.
        #expect(throws: DecodingError.self) {
            try WebhookJSONDecoder.decode(JSONValue.self, from: Data(String(repeating: "[", count: 1_000_000).utf8))
        }
    }

    struct Typed: Decodable, Equatable {
        var int8: Int8
        var uint: UInt
        var int64: Int64
        var double: Double
        var float: Float?
        var text: String
        var flag: Bool?
        var list: [Int]
        var nested: [String: [Int64]]?
        var url: URL?
        var data: Data?
        var decimal: Decimal?
        var id: FlexibleID?
        var missing: String?
    }

    @Test(arguments: [
        #"{"int8":-128,"uint":0,"int64":-9223372036854775808,"double":1.5e-3,"float":2.5,"text":"a\"b\\c\/d\u00e9\n","flag":true,"list":[1,2],"nested":{"k":[1]},"url":"https://example.com/a?b=c","data":"aGVsbG8=","decimal":12.50,"id":12345678901234567890,"missing":null}"#,
        #"{"int8":127,"uint":18446744073709551615,"int64":9223372036854775807,"double":-0,"text":"","list":[],"int8":1}"#,
        #"{"int8":1.0,"uint":1e2,"int64":2E1,"double":1,"text":"x","list":[-0]}"#,
        #"{"int8":1,"uint":1,"int64":1,"double":0,"text":5,"list":[]}"#,
        #"{"int8":1,"uint":1,"int64":1,"double":0,"text":null,"list":[]}"#,
        #"{"int8":1,"uint":1,"int64":1,"double":0,"list":[]}"#,
        #"{"int8":1,"uint":1,"int64":1,"double":0,"text":"","list":[1,"2"]}"#,
        #"{"int8":1,"uint":1,"int64":1,"double":0,"text":"","list":[1,null]}"#,
        #"{"int8":1,"uint":1,"int64":1,"double":0,"text":"","list":{}}"#,
        #"{"int8":1,"uint":1,"int64":1,"double":0,"text":"","list":[],"nested":{"k":[1,true]}}"#,
        #"{"int8":1,"uint":1,"int64":1,"double":0,"text":"","list":[],"data":"not base64!"}"#,
        #"{"int8":1,"uint":1,"int64":1,"double":0,"text":"","list":[],"id":1.5}"#,
        #"{"int8":1,"uint":1,"int64":1,"double":0,"text":"","list":[],"flag":"yes"}"#,
        #"{"int8":1,"uint":1,"int64":9223372036854774807.0,"double":0,"float":3.40282356e38,"text":"","list":[100e-2,0.000e5,1e2]}"#,
        #"[]"#, #"null"#, #""text""#, #"{"int8":1,"uint":1,"int64":1,"double":0,"text":"","list":[1,],}"#,
    ])
    func typedDecodingMatchesJSONDecoder(_ text: String) {
        let data = Data(text.utf8)
        let foundation = Result { try JSONDecoder().decode(Typed.self, from: data) }.mapError(DescribedError.init)
        let ours = Result { try WebhookJSONDecoder.decode(Typed.self, from: data) }.mapError(DescribedError.init)
        #expect(foundation == ours)
    }

    /// A number that does not fit its field: JSONDecoder's error has no path ("body is not valid
    /// JSON"); this one names the field.
    @Test(arguments: [
        (#"{"int8":128,"uint":0,"int64":0,"double":0,"text":"","list":[]}"#, "int8"),
        (#"{"int8":1,"uint":-1,"int64":0,"double":0,"text":"","list":[]}"#, "uint"),
        (#"{"int8":1,"uint":1,"int64":9223372036854775808,"double":0,"text":"","list":[]}"#, "int64"),
        (#"{"int8":1,"uint":1,"int64":1.5,"double":0,"text":"","list":[]}"#, "int64"),
        (#"{"int8":1,"uint":1,"int64":1,"double":1e400,"text":"","list":[]}"#, "double"),
        (#"{"int8":1,"uint":1,"int64":1,"double":0,"float":1e300,"text":"","list":[]}"#, "float"),
        (#"{"int8":1,"uint":1,"int64":1,"double":0,"text":"","list":[1e2,2.5]}"#, "list[1]"),
        (#"{"int8":1,"uint":1,"int64":-9223372036854775809,"double":0,"text":"","list":[]}"#, "int64"),
        (#"{"int8":1,"uint":1,"int64":-9223372036854775808.9,"double":0,"text":"","list":[]}"#, "int64"),
        (#"{"int8":1,"uint":1,"int64":1e19,"double":0,"text":"","list":[]}"#, "int64"),
        (#"{"int8":1,"uint":1,"int64":1,"double":1e-400,"text":"","list":[]}"#, "double"),
        (#"{"int8":1,"uint":1,"int64":1,"double":0,"float":1e-50,"text":"","list":[]}"#, "float"),
        (#"{"int8":1,"uint":1,"int64":1,"double":0,"float":3.5e38,"text":"","list":[]}"#, "float"),
    ])
    func aNumberThatDoesNotFitNamesItsField(_ text: String, field: String) {
        let data = Data(text.utf8)
        #expect(throws: (any Error).self) { try JSONDecoder().decode(Typed.self, from: data) }
        #expect(Result { try WebhookJSONDecoder.decode(Typed.self, from: data) }.mapError(DescribedError.init)
            == .failure(DescribedError(words: "unreadable value at \(field)")))
    }

    /// Long numbers whose exponent and digits offset each other are read exactly or refused.
    @Test func longNumbersAreReadExactly() {
        struct Field: Decodable { var v: Int64 }
        func read(_ number: String) -> Int64? { (try? WebhookJSONDecoder.decode(Field.self, from: Data(#"{"v":\#(number)}"#.utf8)))?.v }
        #expect(read("0." + String(repeating: "0", count: 99_999) + "1e1000000") == nil)  // 10^900000
        #expect(read("1" + String(repeating: "0", count: 100_000) + "e-1000000") == nil)  // 10^-900000
        #expect(read("1" + String(repeating: "0", count: 100_000) + "e-100000") == 1)
        #expect(read("0." + String(repeating: "0", count: 50_000) + "42e50002") == 42)
        #expect(read("-92233720368547758080e-1") == Int64.min)
    }

    /// Every event of a body that cannot be read is kept with its own text.
    @Test func eachUnreadableEventKeepsItsOwnText() throws {
        struct Event: Decodable { var id: Int64 }
        struct Payload: Decodable { var events: [EachEvent<Event>] }
        let elements = (0..<300).map { $0 % 3 == 0 ? #"{"id":\#($0)}"# : #"{"id":"x\#($0)"}"# }
        let body = Data(#"{"events":[\#(elements.joined(separator: ","))]}"#.utf8)
        var parsed = ParsedWebhook()
        for event in try WebhookJSONDecoder.decode(Payload.self, from: body).events {
            event.read(into: &parsed, body: body) { _ throws(WebhookError) in [] }
        }
        #expect(parsed.unreadable.map(\.raw) == elements.enumerated().filter { $0.offset % 3 != 0 }.map(\.element))
    }

    /// A null where a value must be: JSONDecoder's error case for each kind of field.
    @Test func nullWhereAValueMustBe() {
        struct Field<T: Decodable>: Decodable { var v: T }
        func same<T: Decodable>(_ type: T.Type) {
            for text in [#"{"v":null}"#, #"{"v":[null]}"#] {
                let data = Data(text.utf8)
                let foundation = Result { _ = try JSONDecoder().decode(Field<T>.self, from: data) }.mapError(DescribedError.init)
                let ours = Result { _ = try WebhookJSONDecoder.decode(Field<T>.self, from: data) }.mapError(DescribedError.init)
                #expect(foundation.map { true } == ours.map { true }, "\(T.self) \(text)")
            }
        }
        same(Bool.self); same(String.self); same(Int.self); same(Double.self); same(Float.self); same(URL.self); same(Data.self)
        same(Decimal.self); same([Int].self); same([String: Int].self); same([Bool].self); same(FlexibleID.self)
    }

    /// Large objects (indexed once) and small ones (scanned) read the same, with repeated keys and
    /// escaped keys; keys compare as JSONDecoder compares them (canonically equivalent text is the
    /// same key: the Kelvin sign is K).
    @Test func keysAreFoundAsJSONDecoderFindsThem() throws {
        for count in [3, 16, 17, 5000] {
            var members = (0..<count).map { #""k\#($0)":\#($0)"# }
            members += [#""k1":-1"#, #""\u006b2":-2"#, #""\u006b\#(count + 1)":7"#]
            let data = Data(("{" + members.joined(separator: ",") + "}").utf8)
            let (foundation, ours) = Self.both(data)
            #expect(foundation == ours)
            #expect(try ours.get() != .null)
        }
        struct Kelvin: Decodable, Equatable { var K: Int }
        for text in ["{\"\u{212A}\":1}", #"{"\u212A":1}"#, #"{"K":1}"#] {
            let data = Data(text.utf8)
            #expect(try WebhookJSONDecoder.decode(Kelvin.self, from: data) == JSONDecoder().decode(Kelvin.self, from: data))
        }
    }

    /// Each event of a webhook is read on its own, with its path (`EachEvent`): one that does not
    /// decode is kept with the same reason either way.
    @Test func eachEventKeepsItsPath() throws {
        struct Event: Decodable { var id: Int64 }
        struct Payload: Decodable { var events: [EachEvent<Event>] }
        let data = Data(#"{"events":[{"id":1},{"id":"x"},{}]}"#.utf8)
        let reasons = { (payload: Payload) in payload.events.map { event in Result { try event.decoded.get().id }.mapError(DescribedError.init) } }
        let foundation = reasons(try JSONDecoder().decode(Payload.self, from: data))
        let ours = reasons(try WebhookJSONDecoder.decode(Payload.self, from: data))
        #expect(ours == foundation)
        #expect(ours.map { (try? $0.get()) == nil } == [false, true, true])
    }

    // MARK: Generated documents

    static func document(depth: Int, _ random: inout SplitMix64) -> String {
        let space = [" ", "", "\n", "\t", "\r\n "]
        func pad() -> String { random.below(4) == 0 ? space[random.below(space.count)] : "" }
        switch depth >= 4 ? random.below(5) : random.below(7) {
        case 0: return ["null", "true", "false"][random.below(3)]
        case 1: return number(&random)
        case 2, 3, 4: return string(&random)
        case 5: return "[" + pad() + (0..<random.below(5)).map { _ in pad() + document(depth: depth + 1, &random) + pad() }.joined(separator: ",") + "]"
        default:
            let members = (0..<random.below(6)).map { _ in pad() + string(&random) + pad() + ":" + pad() + document(depth: depth + 1, &random) }
            return "{" + members.joined(separator: ",") + pad() + "}"
        }
    }

    static func number(_ random: inout SplitMix64) -> String {
        switch random.below(6) {
        case 0: return String(Int64(bitPattern: random.next()))
        case 1: return String(random.next())
        case 2: return String(random.below(1000)) + "." + String(random.below(1000))
        case 3: return "-" + String(random.below(100)) + ["e", "E"][random.below(2)] + ["", "+", "-"][random.below(3)] + String(random.below(40))
        case 4:
            let edges = ["0", "-0", "0.0", "1e308", "4.9e-324", "9223372036854775807", "-9223372036854775808", "18446744073709551616", "1.0e2",
                         "-0.0e5", "9223372036854774807.0", "100e-2", "0.000e5", "2.5e-3", "12345678901234567890123"]
            return edges[random.below(edges.count)]
        default: return String(random.below(100))
        }
    }

    static func string(_ random: inout SplitMix64) -> String {
        let pieces = ["a", "Z", "0", " ", "こんにちは", "😀", "é", "\\n", "\\\"", "\\\\", "\\/", "\\u00e9", "\\u3042", "\\ud83d\\ude00", "\\t", "\\b", "\\f", "\\r", "\\u0000", "destination", "id"]
        return "\"" + (0..<random.below(6)).map { _ in pieces[random.below(pieces.count)] }.joined() + "\""
    }
}
