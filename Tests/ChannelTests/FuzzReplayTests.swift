import Foundation
import FuzzHarness
import Testing

/// Every input kept in fixtures/fuzz/<target>/ (crashes the fuzzer found, and the reported
/// reproductions) goes through the fuzz harness again: signed, verified and parsed without a trap.
@Suite struct FuzzReplayTests {
    static let root = FixtureCase.root.appendingPathComponent("fuzz")

    static var inputs: [String] {
        FuzzTarget.allCases.flatMap { target in
            ((try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(target.rawValue).path)) ?? []).sorted()
                .map { "\(target.rawValue)/\($0)" }
        }
    }

    @Test func thereAreKeptInputs() {
        #expect(Self.inputs.count >= 7)
    }

    @Test(arguments: inputs)
    func keptInputDoesNotTrap(_ input: String) throws {
        let target = try #require(FuzzTarget(rawValue: String(input.split(separator: "/")[0])))
        let data = try Data(contentsOf: Self.root.appendingPathComponent(input))
        WebhookFuzzHarness.run(target, data)
    }
}
