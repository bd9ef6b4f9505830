#if FUZZING
import Foundation

/// libFuzzer, for the two fuzzing programs (WebhookFuzz, and the fuzzing build of bridge). Only in
/// builds made with `-sanitize=fuzzer -D FUZZING` (scripts/fuzz.sh), which link libFuzzer.
public enum LibFuzzer {
    public typealias Callback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    /// Hands the process's arguments to libFuzzer, which feeds `callback` every input (for
    /// programs with a main of their own: SwiftPM gives every executable one). Each program also
    /// exports the same callback as `LLVMFuzzerTestOneInput`, for when the linker keeps
    /// libFuzzer's main instead.
    public static func run(_ callback: Callback) -> Never {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
    }
}

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>, _ callback: LibFuzzer.Callback
) -> CInt
#endif
