@testable import BridgeServer
import Foundation
import Testing

/// Issue 13, point 11: connections that send nothing, half a request or stay idle are closed, and
/// connections over `server.maxConnections` are refused while the others keep working.
@Suite struct ConnectionTests {
    static let health = "GET /health HTTP/1.1\r\nHost: bridge\r\n\r\n"

    @Test func halfOpenSlowAndIdleConnectionsAreClosed() async throws {
        // Short enough to wait for, long enough that a loaded machine still sends each request in time.
        try await TestBridge.with(configure: { $0.server.headerReadTimeout = 1.5; $0.server.idleTimeout = 1.5 }) { t in
            let port = t.bridge.port
            try await RawConnection.with(port: port) { connection in
                try await connection.sendUnlessClosed("GET /hea")
                #expect(try await connection.readUntilClosed() == "")
            }
            try await RawConnection.with(port: port) { connection in
                let received = try await connection.readUntilClosed()
                #expect(received == "")
            }
            try await RawConnection.with(port: port) { connection in
                try await connection.sendUnlessClosed("GET /health HTTP/1.1\r\nHost: bridge\r\n")  // headers that never end
                #expect(try await connection.readUntilClosed() == "")
            }
            // After an answered request: idle, or half of the next request.
            try await RawConnection.with(port: port) { connection in
                try await connection.send(Self.health)
                #expect(try await connection.readResponse().status == 200)
                #expect(try await connection.readUntilClosed() == "")
            }
            try await RawConnection.with(port: port) { connection in
                try await connection.send(Self.health)
                #expect(try await connection.readResponse().status == 200)
                try await connection.sendUnlessClosed("GET /hea")
                #expect(try await connection.readUntilClosed() == "")
            }
        }
    }

    @Test func connectionsOverTheLimitAreRefusedWhileTheOthersWork() async throws {
        try await TestBridge.with(configure: { $0.server.maxConnections = 2 }) { t in
            let port = t.bridge.port
            try await RawConnection.with(port: port) { first in
                try await first.send(Self.health)
                #expect(try await first.readResponse().status == 200)
                try await RawConnection.with(port: port) { second in
                    try await second.send(Self.health)
                    #expect(try await second.readResponse().status == 200)
                    try await RawConnection.with(port: port) { third in
                        let refused = try await third.readUntilClosed()
                        #expect(refused.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
                        #expect(refused.hasSuffix(#"{"error":{"code":"too_many_connections","message":"the bridge has as many connections open as it takes; try again shortly"}}"#))
                    }
                    try await second.send(Self.health)
                    #expect(try await second.readResponse().status == 200)
                }
                try await first.send(Self.health)
                #expect(try await first.readResponse().status == 200)
            }
            #expect(t.bridge.parts.metrics.render().contains("bridge_connections_refused_total 1"))
            // Closed connections free their places.
            try await t.eventually("a new connection served") {
                try await RawConnection.with(port: port) { connection in
                    do {
                        try await connection.send(Self.health)
                        return try await connection.readResponse().status == 200
                    } catch {
                        return false
                    }
                }
            }
        }
    }
}
