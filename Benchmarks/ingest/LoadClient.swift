import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// Sends requests over loopback and measures the time to each answer.
struct LoadClient: Sendable {
    let client: HTTPClient
    let baseURL: String
    let requestTimeout: TimeAmount
    let connections: Int

    init(baseURL: String, connections: Int, requestTimeout: TimeAmount = .seconds(30)) {
        self.requestTimeout = requestTimeout
        self.connections = connections
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.baseURL = baseURL
    }

    func shutdown() async throws { try await client.shutdown() }

    /// One request; returns its status (0 when the server could not be reached).
    func send(_ path: String, body: Data?, signature: String?) async -> Int {
        var request = HTTPClientRequest(url: baseURL + path)
        if let body {
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        if let signature { request.headers.add(name: "X-Line-Signature", value: signature) }
        do {
            let response = try await client.execute(request, timeout: requestTimeout)
            _ = try await response.body.collect(upTo: 1 << 16)
            return Int(response.status.code)
        } catch {
            return 0
        }
    }

    struct Result {
        var statuses: [Int]
        var latencies: LatencyStats
        var seconds: Double
        var ok: Int { statuses.filter { (200..<300).contains($0) }.count }
        var rate: Double { Double(ok) / seconds }
    }

    /// Closed loop: `concurrency` workers send request `i` for every i in 0..<count as fast as answers come.
    func closedLoop(
        count: Int, concurrency: Int, acknowledged: Ticket? = nil, stop: (@Sendable () -> Bool)? = nil,
        request: @escaping @Sendable (Int) -> (String, Data?, String?)
    ) async -> Result {
        let next = Ticket()
        let start = ContinuousClock.now
        let perWorker = await withTaskGroup(of: [(Int, Int, Double)].self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var out: [(Int, Int, Double)] = []
                    while true {
                        let i = next.take()
                        guard i < count, stop?() != true else { break }
                        let (path, body, signature) = request(i)
                        let t0 = ContinuousClock.now
                        let status = await send(path, body: body, signature: signature)
                        out.append((i, status, (ContinuousClock.now - t0).milliseconds))
                        if (200..<300).contains(status) { _ = acknowledged?.take() }
                    }
                    return out
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        let seconds = (ContinuousClock.now - start).seconds
        var statuses = Array(repeating: 0, count: count)
        for (i, status, _) in perWorker { statuses[i] = status }
        return Result(statuses: statuses, latencies: LatencyStats(samples: perWorker.map(\.2)), seconds: seconds)
    }

    /// Open loop: request `i` is due at start + i/rate whatever the answers do; latency counts from
    /// when it was due, so a server falling behind shows in the figures.
    func openLoop(count: Int, rate: Double, request: @escaping @Sendable (Int) -> (String, Data?, String?)) async -> Result {
        let start = ContinuousClock.now
        let samples = await withTaskGroup(of: (Int, Int, Double).self) { group in
            var i = 0
            while i < count {
                let now = ContinuousClock.now
                while i < count, start + .seconds(Double(i) / rate) <= now {
                    let due = start + .seconds(Double(i) / rate)
                    let index = i
                    group.addTask {
                        let (path, body, signature) = request(index)
                        let status = await send(path, body: body, signature: signature)
                        return (index, status, (ContinuousClock.now - due).milliseconds)
                    }
                    i += 1
                }
                if i < count { try? await Task.sleep(until: start + .seconds(Double(i) / rate), clock: .continuous) }
            }
            return await group.reduce(into: [(Int, Int, Double)]()) { $0.append($1) }
        }
        let seconds = (ContinuousClock.now - start).seconds
        var statuses = Array(repeating: 0, count: count)
        for (i, status, _) in samples { statuses[i] = status }
        return Result(statuses: statuses, latencies: LatencyStats(samples: samples.map(\.2)), seconds: seconds)
    }
}

extension Duration {
    var milliseconds: Double { seconds * 1000 }
}

/// Hands out 0, 1, 2, ... to concurrent workers.
final class Ticket: Sendable {
    private let value = Atomic<Int>(0)
    func take() -> Int { value.add(1, ordering: .relaxed).oldValue }
    var current: Int { value.load(ordering: .relaxed) }
}

/// Set once; read from any task.
final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}
