import AsyncHTTPClient
@testable import BridgeServer
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import UniversalInbox

/// Agents' uploaded images: `POST /api/v1/uploads` checks and stores them privately,
/// `GET /media/{id}/{signature}` serves them to the platforms without credentials.
@Suite struct UploadTests {
    static let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + Data(repeating: 0x2A, count: 200)
    static let jpeg = Data([0xFF, 0xD8, 0xFF, 0xE0]) + Data(repeating: 0x01, count: 100)
    static let gif = Data("GIF89a".utf8) + Data(repeating: 0x00, count: 20)
    static let webp = Data("RIFF".utf8) + Data([0x24, 0, 0, 0]) + Data("WEBPVP8 ".utf8) + Data(repeating: 0x00, count: 20)

    static func upload(
        _ t: TestBridge, _ data: Data, type: String?, token: String? = TestBridge.adminToken, headers: [(String, String)] = []
    ) async throws -> TestBridge.Reply {
        try await t.request(.POST, "/api/v1/uploads", body: data, headers: (type.map { [("Content-Type", $0)] } ?? []) + headers, token: token)
    }

    /// The files in the uploads directory (beside the attachments).
    static func stored(_ t: TestBridge) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: t.dataDirectory + "/uploads")) ?? []).sorted()
    }

    /// The path part of an upload's public URL.
    static func path(_ reply: TestBridge.Reply) throws -> String {
        let url = try #require(reply.json["url"] as? String)
        #expect(url.hasPrefix(TestBridge.publicBaseURL + "/media/"))
        return String(url.dropFirst(TestBridge.publicBaseURL.count))
    }

    @Test func anUploadIsStoredPrivatelyAndServedToAnyoneWithItsLink() async throws {
        try await TestBridge.with { t in
            let agent = try await t.addAgent("Ann")
            let reply = try await Self.upload(t, Self.png, type: "image/png", token: agent.token)
            #expect(reply.status == 201, "\(reply.text)")
            let id = try #require(reply.json["id"] as? String)
            #expect(reply.json["contentType"] as? String == "image/png" && reply.json["bytes"] as? Int == Self.png.count)
            let path = try Self.path(reply)
            #expect(path.hasPrefix("/media/\(id)/"))
            // Private on disk: the directory 0700, the file 0600.
            #expect(Self.stored(t) == ["\(id).png"])
            #expect(PrivateFiles.mode(t.dataDirectory + "/uploads") == 0o700)
            #expect(PrivateFiles.mode(t.dataDirectory + "/uploads/\(id).png") == 0o600)
            // Public: no credentials, the bytes with their type, never sniffed, cached long.
            let served = try await t.get(path, token: nil)
            #expect(served.status == 200 && served.body == Self.png)
            #expect(served.headers["Content-Type"] == ["image/png"])
            #expect(served.headers["X-Content-Type-Options"] == ["nosniff"])
            #expect(served.headers["Content-Disposition"] == ["inline"])
            #expect(served.headers["Cache-Control"].first?.contains("max-age=31536000") == true)
            // A wrong signature, an unknown id and a malformed id: the same 404, no hint which.
            let signature = String(path.split(separator: "/").last ?? "")
            let wrongSignature = "/media/\(id)/" + String(signature.reversed())
            let unknownId = "/media/\(String(id.reversed()))/\(signature)"
            var bodies: Set<String> = []
            for probe in [wrongSignature, unknownId, "/media/\(id)/", "/media/../\(signature)", "/media/\(id.uppercased())/\(signature)"] {
                let refused = try await t.get(probe, token: nil)
                #expect(refused.status == 404, "\(probe)")
                if probe != "/media/\(id)/" { bodies.insert(refused.text) }
            }
            #expect(bodies.count == 1 && bodies.first?.contains("\"not_found\"") == true, "\(bodies)")
            // The key is the bridge's own generated secret, beside the database, never in the answer.
            let key = try String(contentsOfFile: t.dataDirectory + "/media-link-key", encoding: .utf8)
            #expect(PrivateFiles.mode(t.dataDirectory + "/media-link-key") == 0o600)
            #expect(!reply.text.contains(key.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
    }

    @Test func theBytesMustBeTheImageTheyClaimToBe() async throws {
        try await TestBridge.with { t in
            for (type, data) in [("image/png", Self.png), ("image/jpeg", Self.jpeg), ("image/gif", Self.gif), ("image/webp", Self.webp), ("image/PNG; q=1", Self.png)] {
                let reply = try await Self.upload(t, data, type: type)
                #expect(reply.status == 201, "\(type): \(reply.text)")
                let served = try await t.get(try Self.path(reply), token: nil)
                #expect(served.body == data && served.headers["Content-Type"].first == type.split(separator: ";")[0].lowercased())
            }
            let before = Self.stored(t)
            #expect(before.count == 5)
            // Declared one image type, sent another (or none at all).
            for (type, data) in [("image/jpeg", Self.png), ("image/png", Self.gif), ("image/webp", Data("RIFF\0\0\0\0AVI ".utf8)), ("image/png", Data()),
                                 ("image/gif", Data("<svg xmlns='http://www.w3.org/2000/svg'/>".utf8))] {
                let refused = try await Self.upload(t, data, type: type)
                #expect(refused.status == 422 && refused.errorCode == "not_an_image", "\(type): \(refused.text)")
            }
            // Types that are not these four images.
            for type in ["image/svg+xml", "text/html", "application/octet-stream", nil] {
                let refused = try await Self.upload(t, Self.png, type: type)
                #expect(refused.status == 415 && refused.errorCode == "unsupported_media_type", "\(type ?? "none"): \(refused.text)")
            }
            #expect(Self.stored(t) == before)
        }
    }

    @Test func uploadsOverTheLimitAreRefusedBeforeTheyAreRead() async throws {
        try await TestBridge.with(configure: { $0.media.maxUploadBytes = 1024 }) { t in
            let exact = Self.png + Data(repeating: 0, count: 1024 - Self.png.count)
            #expect(try await Self.upload(t, exact, type: "image/png").status == 201)
            let stored = Self.stored(t)
            let over = try await Self.upload(t, exact + Data([0]), type: "image/png")
            #expect(over.status == 413 && over.errorCode == "body_too_large", "\(over.text)")
            // No Content-Length (chunked): cut off at the limit all the same.
            var request = HTTPClientRequest(url: t.bridge.baseURL + "/api/v1/uploads")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(TestBridge.adminToken)")
            request.headers.add(name: "Content-Type", value: "image/png")
            let (chunks, writer) = AsyncStream.makeStream(of: ByteBuffer.self)
            for chunk in [exact, Data(repeating: 0, count: 4096)] { writer.yield(ByteBuffer(bytes: chunk)) }
            writer.finish()
            request.body = .stream(chunks, length: .unknown)
            let chunked = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            #expect(chunked.status.code == 413)
            #expect(Self.stored(t) == stored)
        }
    }

    @Test func withoutAPublicURLThePlatformsCouldNotFetchIt() async throws {
        try await TestBridge.with(configure: { $0.server.publicBaseURL = nil }) { t in
            let refused = try await Self.upload(t, Self.png, type: "image/png")
            #expect(refused.status == 409 && refused.errorCode == "no_public_url")
            #expect(refused.errorMessage?.contains("server.publicBaseURL") == true)
            #expect(Self.stored(t).isEmpty)
        }
    }

    @Test func uploadsNeedAnAgentAndTheBridgesOwnOrigin() async throws {
        try await TestBridge.with { t in
            _ = try await t.addAgent("Ann", password: WebSessionTests.password)
            let cookie = try #require(try await WebSessionTests.signIn(t).token)
            #expect(try await Self.upload(t, Self.png, type: "image/png", token: nil).status == 401)
            #expect(try await Self.upload(t, Self.png, type: "image/png", token: "brg_" + String(repeating: "0", count: 64)).status == 401)
            for origin in [nil, "https://evil.example", "null"] {
                let headers = [("Cookie", "\(SessionCookie.name)=\(cookie)")] + (origin.map { [("Origin", $0)] } ?? [])
                let refused = try await Self.upload(t, Self.png, type: "image/png", token: nil, headers: headers)
                #expect(refused.status == 403 && refused.errorCode == "cross_origin", "Origin \(origin ?? "none")")
            }
            #expect(Self.stored(t).isEmpty)
            let own = try await Self.upload(
                t, Self.png, type: "image/png", token: nil, headers: [("Cookie", "\(SessionCookie.name)=\(cookie)"), ("Origin", "http://127.0.0.1:\(t.bridge.port)")])
            #expect(own.status == 201)
            #expect(Self.stored(t).count == 1)
        }
    }

    @Test func theUploadsLinkIsWhatTheReplySends() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ticket = try await t.customerWrites("U4af4980629a1b2c3d4e5f60718293a4b", "Here is my receipt?")
            let upload = try await Self.upload(t, Self.png, type: "image/png")
            let url = try #require(upload.json["url"] as? String)
            let reply = try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"image":{"url":"\#(url)"},"text":"This one"}"#)
            #expect(reply.status == 202, "\(reply.text)")
            try await t.eventually("LINE receives the image") {
                t.line.requests.contains { request in
                    let messages = (request.json as? [String: Any])?["messages"] as? [[String: Any]] ?? []
                    return messages.contains { $0["type"] as? String == "image" && $0["originalContentUrl"] as? String == url }
                }
            }
        }
    }

    @Test func theJanitorDeletesUploadsPastTheirRetention() async throws {
        try await TestBridge.with(janitorInterval: .milliseconds(50)) { t in
            let old = try await Self.upload(t, Self.png, type: "image/png")
            let fresh = try await Self.upload(t, Self.jpeg, type: "image/jpeg")
            let oldId = try #require(old.json["id"] as? String)
            // Made 31 days ago (the default retention is 30).
            try FileManager.default.setAttributes(
                [.modificationDate: Date().addingTimeInterval(-31 * 86400)], ofItemAtPath: t.dataDirectory + "/uploads/\(oldId).png")
            try await t.eventually("the old upload is deleted") { !Self.stored(t).contains("\(oldId).png") }
            #expect(try await t.get(try Self.path(old), token: nil).status == 404)
            #expect(try await t.get(try Self.path(fresh), token: nil).status == 200)
        }
    }
}
