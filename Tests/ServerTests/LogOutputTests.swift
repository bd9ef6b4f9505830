@testable import BridgeServer
import Logging
import Synchronization
import Testing

/// `LogOutput` writes the lines `StreamLogHandler` writes: the logger's metadata, the provider's and
/// the message's (each winning over the one before on a shared key), and an error's.
struct LogOutputTests {
    final class Lines: TextOutputStream, Sendable {
        private let text = Mutex("")
        var all: String { text.withLock { $0 } }
        func write(_ string: String) { text.withLock { $0 += string } }
    }

    struct Sink: TextOutputStream, Sendable {
        let lines: Lines
        mutating func write(_ string: String) { lines.write(string) }
    }

    struct Refusal: Error, CustomStringConvertible {
        var description: String { "refused" }
    }

    /// A line without its timestamp (the text before the first space).
    static func untimed(_ text: String) -> [String] {
        text.split(separator: "\n").map { String($0.drop { $0 != " " }) }
    }

    @Test func linesReadAsStreamLogHandlersDo() {
        let (ours, theirs) = (Lines(), Lines())
        let provider = Logger.MetadataProvider { ["hb.request.id": "7", "trace": "t1"] }
        var output = Logger(label: "bridge") { LogOutput(StreamLogHandler(label: $0, stream: Sink(lines: ours), metadataProvider: provider)) }
        var stream = Logger(label: "bridge") { StreamLogHandler(label: $0, stream: Sink(lines: theirs), metadataProvider: provider) }
        output[metadataKey: "hb.request.id"] = "42"
        stream[metadataKey: "hb.request.id"] = "42"
        output[metadataKey: "channel.account"] = "line:a"
        stream[metadataKey: "channel.account"] = "line:a"
        output.logLevel = .debug
        stream.logLevel = .debug
        for logger in [output, stream] {
            logger.info("webhook acknowledged")
            logger.warning("refused", metadata: ["channel.account": "line:b", "reason": "signature"])
            logger.error("not stored", error: Refusal())
            logger.trace("not written")
        }
        #expect(Self.untimed(ours.all) == Self.untimed(theirs.all))
        #expect(Self.untimed(ours.all) == [
            " info bridge: channel.account=line:a hb.request.id=7 trace=t1 [ServerTests] webhook acknowledged",
            " warning bridge: channel.account=line:b hb.request.id=7 reason=signature trace=t1 [ServerTests] refused",
            " error bridge: channel.account=line:a error.message=refused error.type=ServerTests.LogOutputTests.Refusal hb.request.id=7 trace=t1 [ServerTests] not stored",
        ])
    }
}
