import FuzzHarness
import Foundation

// Built by scripts/fuzz.sh with `-sanitize=fuzzer -D FUZZING`, this program hands its arguments to
// libFuzzer, which feeds every input to the target named by $FUZZ_TARGET. Built without it (the
// ordinary `swift build`), it replays files: `WebhookFuzz TARGET FILE...`.

#if FUZZING
/// The target, from $FUZZ_TARGET (read once, on the first input).
let fuzzTarget: FuzzTarget = {
    guard let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"], let target = FuzzTarget(rawValue: name) else {
        fatalError("set FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return target
}()

/// Called by libFuzzer for every input (whichever main the linker kept: libFuzzer's, or ours below).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    WebhookFuzzHarness.run(fuzzTarget, data.map { Data(bytes: $0, count: size) } ?? Data())
    return 0
}

@main
struct WebhookFuzz {
    static func main() { LibFuzzer.run { fuzzOneInput($0, $1) } }
}
#else
@main
struct WebhookFuzzReplay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: WebhookFuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) FILE...")
            exit(2)
        }
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            WebhookFuzzHarness.run(target, data)
        }
        print("\(name): replayed \(arguments.count - 1) inputs")
    }
}
#endif
