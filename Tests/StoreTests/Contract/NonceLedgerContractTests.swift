import ChannelKit
import Foundation
import TestSupport
import Testing

/// `NonceLedger` as every implementation must keep it: a nonce signs one body until it expires
/// (the same body again is the platform's redelivery), per account; expired nonces are forgotten.
/// On PostgreSQL across two processes (two clients): a nonce one process recorded is a replay on the
/// other. Times are given, never waited for.
@Suite struct NonceLedgerContractTests {
    private let start = Date(timeIntervalSince1970: 1_800_000_000)

    private func use(_ nonce: String, _ body: String, signer: String = "wechat:main", for seconds: TimeInterval = 300) -> SignatureUse {
        SignatureUse(signer: signer, nonce: nonce, body: Data(body.utf8), expires: start.addingTimeInterval(seconds))
    }

    @Test(arguments: StoreKind.available)
    func aNonceSignsOneBodyUntilItExpires(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let ledger = stores.nonces
            #expect(try await ledger.record(use("n1", "<a/>"), at: start))
            // The platform's redelivery of the same body under the same nonce.
            #expect(try await ledger.record(use("n1", "<a/>"), at: start.addingTimeInterval(5)))
            // Another body under it: a replay, and nothing changes.
            #expect(try await !ledger.record(use("n1", "<b/>"), at: start.addingTimeInterval(10)))
            #expect(try await ledger.record(use("n1", "<a/>"), at: start.addingTimeInterval(11)))
            // Another signer's nonce of the same text is its own.
            #expect(try await ledger.record(use("n1", "<b/>", signer: "wechat:other"), at: start))
            // Expired, the nonce may sign anything (its timestamp is refused by then anyway).
            #expect(try await ledger.record(use("n1", "<b/>", for: 600), at: start.addingTimeInterval(300)))
            #expect(try await !ledger.record(use("n1", "<a/>", for: 600), at: start.addingTimeInterval(301)))
        }
    }

    @Test(arguments: StoreKind.available)
    func expiredNoncesAreForgotten(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let ledger = stores.nonces
            #expect(try await ledger.record(use("soon", "<a/>", for: 100), at: start))
            #expect(try await ledger.record(use("later", "<a/>", for: 200), at: start))
            #expect(try await ledger.removeExpired(at: start.addingTimeInterval(99)) == 0)
            #expect(try await ledger.removeExpired(at: start.addingTimeInterval(100)) == 1)
            // The one kept still refuses another body.
            #expect(try await !ledger.record(use("later", "<b/>", for: 200), at: start.addingTimeInterval(150)))
        }
    }

    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func aNonceRecordedByOneProcessIsAReplayOnTheOther() async throws {
        try await Stores.withPostgresProcesses(2) { processes throws in
            #expect(try await processes[0].nonces.record(use("n1", "<a/>"), at: start))
            #expect(try await !processes[1].nonces.record(use("n1", "<b/>"), at: start.addingTimeInterval(1)))
            #expect(try await processes[1].nonces.record(use("n1", "<a/>"), at: start.addingTimeInterval(1)))
            // Two processes recording one new nonce at once, over two bodies: exactly one is accepted.
            for round in 0..<20 {
                async let first = processes[0].nonces.record(use("race\(round)", "<a/>"), at: start)
                async let second = processes[1].nonces.record(use("race\(round)", "<b/>"), at: start)
                let accepted = try await [first, second].filter { $0 }.count
                #expect(accepted == 1, "round \(round)")
            }
        }
    }
}
