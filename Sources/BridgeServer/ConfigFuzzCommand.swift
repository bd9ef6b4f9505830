#if FUZZING
import ArgumentParser
import Foundation

/// libFuzzer's entry for programs with a main of their own.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

extension Bridge {
    /// `bridge fuzz-config [libFuzzer options] CORPUS`: only in the fuzzing build (scripts/fuzz.sh
    /// builds the bridge with `-sanitize=fuzzer -D FUZZING`). Every input is a bridge.yaml; reading
    /// it may fail with a `ConfigError`, never trap.
    struct FuzzConfig: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "fuzz-config", abstract: "Fuzz the configuration loader (fuzzing builds only).")

        @Argument(parsing: .allUnrecognized) var libFuzzerArguments: [String] = []

        func run() throws {
            let arguments = [CommandLine.arguments[0]] + libFuzzerArguments
            var argc = CInt(arguments.count)
            // libFuzzer keeps argv for the whole run: the copies live until the process ends.
            var pointers = arguments.map { strdup($0) } + [nil]
            let code = pointers.withUnsafeMutableBufferPointer { buffer -> CInt in
                var argv = buffer.baseAddress!
                return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                    let yaml = String(decoding: UnsafeBufferPointer(start: data, count: data == nil ? 0 : size), as: UTF8.self)
                    _ = try? ConfigLoader.parse(yaml: yaml, environment: ["SECRET": "a-secret-value-from-the-environment-0123"])
                    return 0
                }
            }
            throw ExitCode(code)
        }
    }
}
#endif
