#if FUZZING
import Foundation

// The fuzzing build of `bridge` (scripts/fuzz.sh: `-sanitize=fuzzer -D FUZZING`) is a fuzzer of the
// configuration loader: every input is a bridge.yaml, and reading it may fail with a `ConfigError`,
// never trap. Its arguments are libFuzzer's.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfiguration(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let yaml = String(decoding: UnsafeBufferPointer(start: data, count: data == nil ? 0 : size), as: UTF8.self)
    _ = try? ConfigLoader.parse(yaml: yaml, environment: ["SECRET": "a-secret-value-from-the-environment-0123"])
    return 0
}

/// libFuzzer's entry for a program with a main of its own.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

extension Bridge {
    /// Replaces the command line: the arguments go to libFuzzer.
    static func main() async {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        Foundation.exit(LLVMFuzzerRunDriver(&argc, &argv) { fuzzConfiguration($0, $1) })
    }
}
#endif
