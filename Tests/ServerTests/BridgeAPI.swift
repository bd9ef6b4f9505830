import AsyncHTTPClient
@testable import BridgeServer
import Foundation
import NIOCore
import NIOHTTP1

/// The bridge's REST API as a test calls it: each endpoint (`BridgeAPI+Endpoints.swift`) sends the
/// body its route reads and decodes the type the route answers with — the API's own
/// (`TicketSummary`, `ContactDetail`, `MessageDTO`, ...), its dates read as `JSONResponse` writes
/// them — so a test reads `try await api.ticket(id).tags`, not `json["tags"] as? [String]`.
///
/// A refusal throws `APIFailure` (the status and the API's `{"error":{"code","message"}}`);
/// `failure(of:)` turns one a test expects into a value. A success with another status than the
/// endpoint's (201 where 200 was due) or a body that does not decode throws `UnexpectedReply`.
/// `raw` is the escape hatch for tests of exact bytes, headers and malformed input.
struct BridgeAPI: Sendable {
    let baseURL: String
    /// Sent as `Authorization: Bearer`; nil sends none.
    let token: String?

    /// Sends `body` as JSON and decodes the answer, which must have status `expect`.
    func send<Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, _ body: (any Encodable)? = nil, expect: Int = 200, as: Answer.Type = Answer.self
    ) async throws -> Answer {
        let reply = try await call(method, path, body, expect: [expect])
        return try Self.decode(Answer.self, from: reply, method, path)
    }

    /// Sends and expects an answer without a body (204).
    func sendExpectingNoContent(_ method: HTTPMethod, _ path: String, _ body: (any Encodable)? = nil) async throws {
        _ = try await call(method, path, body, expect: [204])
    }

    /// Sends and decodes an answer that may be empty: 204 is nil (a draft that is not there).
    func sendOrNoContent<Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, _ body: (any Encodable)? = nil, as: Answer.Type = Answer.self
    ) async throws -> Answer? {
        let reply = try await call(method, path, body, expect: [200, 204])
        return reply.status == 204 ? nil : try Self.decode(Answer.self, from: reply, method, path)
    }

    /// The refusal `call` ended in; throws if it succeeded (or failed otherwise).
    ///
    ///     #expect(try await api.failure(of: await api.updateTicket(id, .init(priority: "asap"))).code == "invalid_priority")
    func failure<Answer>(of call: @autoclosure () async throws -> Answer) async throws -> APIFailure {
        let answer: Answer
        do {
            answer = try await call()
        } catch let failure as APIFailure {
            return failure
        }
        throw UnexpectedReply(description: "expected a refusal, got \(answer)")
    }

    /// The escape hatch: exactly these bytes and headers, the answer as it came (any status).
    func raw(_ method: HTTPMethod, _ path: String, body: Data? = nil, headers: [(String, String)] = []) async throws -> TestBridge.Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return TestBridge.Reply(status: Int(response.status.code), body: Data(buffer: bytes), headers: response.headers)
    }

    /// `raw` with a JSON text body.
    func raw(_ method: HTTPMethod, _ path: String, json: String) async throws -> TestBridge.Reply {
        try await raw(method, path, body: Data(json.utf8), headers: [("Content-Type", "application/json")])
    }

    private func call(_ method: HTTPMethod, _ path: String, _ body: (any Encodable)?, expect: Set<Int>) async throws -> TestBridge.Reply {
        let reply = try await raw(
            method, path, body: try body.map { try JSONResponse.encoder().encode($0) }, headers: body == nil ? [] : [("Content-Type", "application/json")])
        guard (200..<300).contains(reply.status) else { throw try APIFailure(reply, method, path) }
        guard expect.contains(reply.status) else {
            throw UnexpectedReply(description: "\(method) \(path) answered \(reply.status) where \(expect.sorted()) was due: \(reply.text)")
        }
        return reply
    }

    private static func decode<Answer: Decodable>(_ type: Answer.Type, from reply: TestBridge.Reply, _ method: HTTPMethod, _ path: String) throws -> Answer {
        do {
            return try decoder().decode(Answer.self, from: reply.body)
        } catch {
            throw UnexpectedReply(description: "\(method) \(path): \(Answer.self) does not decode from \(reply.text): \(error)")
        }
    }

    /// Reads what `JSONResponse.encoder()` writes: ISO 8601 dates with milliseconds.
    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 date with milliseconds: \(text)"))
            }
            return date
        }
        return decoder
    }
}

/// The API refused: its status and error body (`APIError`).
struct APIFailure: Error, Sendable, CustomStringConvertible {
    var status: Int
    var code: String
    var message: String
    /// The whole answer, for refusals that carry more than the error (409 `ticket_changed`'s newer messages).
    var body: Data

    init(_ reply: TestBridge.Reply, _ method: HTTPMethod, _ path: String) throws {
        struct Body: Decodable {
            struct Detail: Decodable {
                var code: String
                var message: String
            }
            var error: Detail
        }
        guard let error = try? BridgeAPI.decoder().decode(Body.self, from: reply.body).error else {
            throw UnexpectedReply(description: "\(method) \(path) answered \(reply.status) without the API's error body: \(reply.text)")
        }
        (status, code, message, body) = (reply.status, error.code, error.message, reply.body)
    }

    /// The body as `type`, e.g. `TicketChangedDTO`.
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try BridgeAPI.decoder().decode(T.self, from: body) }

    var description: String { "\(status) \(code): \(message)" }
}

/// An answer the endpoint does not give: another success status, a body that does not decode.
struct UnexpectedReply: Error, CustomStringConvertible {
    var description: String
}
