#if FUZZING
import Foundation
import FuzzHarness

// The fuzzing build of `bridge` (scripts/fuzz.sh: `-sanitize=fuzzer -D FUZZING`) is a fuzzer of the
// configuration loader: every input is a bridge.yaml, and reading it may fail with a `ConfigError`,
// never trap. Its arguments are libFuzzer's.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfiguration(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let yaml = String(decoding: UnsafeBufferPointer(start: data, count: data == nil ? 0 : size), as: UTF8.self)
    _ = try? ConfigLoader.parse(yaml: yaml, environment: ["SECRET": "a-secret-value-from-the-environment-0123"])
    return 0
}

extension Bridge {
    /// Replaces the command line: the arguments go to libFuzzer.
    static func main() async { LibFuzzer.run { fuzzConfiguration($0, $1) } }
}
#endif
