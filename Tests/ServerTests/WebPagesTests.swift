@testable import BridgeServer
import Foundation
import Testing

/// The web inbox's files, served by the bridge itself: what each address answers, the headers every
/// page and asset carries, and that no request path reaches beyond the embedded bundle.
@Suite struct WebPagesTests {
    static let securityHeaders = [
        "content-security-policy":
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin",
    ]

    /// One answer read off the wire (so the request path is sent exactly as written, `..` and all).
    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: String
        var errorCode: String? {
            let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            return (json?["error"] as? [String: Any])?["code"] as? String
        }
    }

    static func raw(_ t: TestBridge, _ target: String, method: String = "GET") async throws -> Answer {
        let text = try await RawConnection.with(port: t.bridge.port) { connection in
            try await connection.send("\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(t.bridge.port)\r\nConnection: close\r\n\r\n")
            return try await connection.readUntilClosed()
        }
        let parts = text.components(separatedBy: "\r\n\r\n")
        let lines = parts[0].components(separatedBy: "\r\n")
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let status = Int(lines[0].split(separator: " ")[1]) ?? 0
        return Answer(status: status, headers: headers, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    static func expectSecurityHeaders(_ answer: Answer, _ what: String) {
        for (name, value) in securityHeaders { #expect(answer.headers[name] == value, "\(name) on \(what)") }
    }

    @Test func theInboxPageAndItsAssetsAreServed() async throws {
        try await TestBridge.with { t in
            let root = try await Self.raw(t, "/")
            #expect(root.status == 302)
            #expect(root.headers["location"] == "/inbox/")
            Self.expectSecurityHeaders(root, "/")

            var version = ""
            for path in ["/inbox/", "/inbox", "/inbox/tickets/42", "/inbox/views/mine?q=x"] {
                let page = try await Self.raw(t, path)
                #expect(page.status == 200, "\(path)")
                #expect(page.headers["content-type"] == "text/html; charset=utf-8")
                #expect(page.headers["cache-control"] == "no-cache")
                Self.expectSecurityHeaders(page, path)
                #expect(!page.body.contains("{{assets}}"))
                let script = try #require(page.body.firstMatch(of: /src="\/assets\/([0-9a-f]{16})\/app\.js"/))
                #expect(page.body.contains(#"href="/assets/\#(script.1)/styles/app.css""#))
                version = String(script.1)
            }

            for (file, type) in [("app.js", "text/javascript; charset=utf-8"), ("styles/app.css", "text/css; charset=utf-8")] {
                let asset = try await Self.raw(t, "/assets/\(version)/\(file)")
                #expect(asset.status == 200, "\(file)")
                #expect(asset.headers["content-type"] == type)
                #expect(asset.headers["cache-control"] == "public, max-age=31536000, immutable")
                Self.expectSecurityHeaders(asset, file)
                #expect(asset.body.utf8.count == Int(asset.headers["content-length"] ?? "") && !asset.body.isEmpty)
            }
            // The pages are read-only: another method is 405, as everywhere.
            let post = try await Self.raw(t, "/inbox/tickets/42", method: "POST")
            #expect(post.status == 405)
            #expect(post.headers["allow"] == "GET")
        }
    }

    @Test func theConsolePageIsServedLikeTheInbox() async throws {
        try await TestBridge.with { t in
            let inbox = try await Self.raw(t, "/inbox/")
            let version = String(try #require(inbox.body.firstMatch(of: /\/assets\/([0-9a-f]{16})\//)).1)
            for path in ["/console", "/console/", "/console/channels/line-main"] {
                let page = try await Self.raw(t, path)
                #expect(page.status == 200, "\(path)")
                #expect(page.headers["content-type"] == "text/html; charset=utf-8")
                #expect(page.headers["cache-control"] == "no-cache")
                Self.expectSecurityHeaders(page, path)
                #expect(page.body.contains(#"<script type="module" src="/assets/\#(version)/console/app.js"></script>"#), "\(path)")
            }
            let module = try await Self.raw(t, "/assets/\(version)/console/app.js")
            #expect(module.status == 200)
            #expect(try await Self.raw(t, "/assets/\(version)/console.html").status == 404)
        }
    }

    /// Every catalogue (the inbox's `i18n/en.js`, the console's and each section's) has its
    /// Japanese twin with the same keys, so no text falls back to its key in one language.
    @Test func everyCatalogueHasTheSameKeysInEnglishAndJapanese() throws {
        let files = try WebAssets.bundled().files
        let english = files.keys.filter { $0.contains("i18n/") && $0.hasSuffix("en.js") }
        #expect(english.count >= 2, "\(english)")
        func keys(_ path: String) -> Set<String> {
            let text = String(buffer: files[path]?.body ?? .init())
            return Set(text.split(separator: "\n").compactMap { line in line.firstMatch(of: /^\s*['"]([^'"]+)['"]\s*:/).map { String($0.1) } })
        }
        for path in english {
            let twin = path.replacingOccurrences(of: "en.js", with: "ja.js")
            #expect(files[twin] != nil, "\(path) has no \(twin)")
            let (en, ja) = (keys(path), keys(twin))
            #expect(!en.isEmpty, "\(path)")
            #expect(en.subtracting(ja).isEmpty, "\(twin) lacks \(en.subtracting(ja).sorted())")
            #expect(ja.subtracting(en).isEmpty, "\(path) lacks \(ja.subtracting(en).sorted())")
        }
    }

    @Test func onlyTheBundlesOwnFilesAreServed() async throws {
        try await TestBridge.with { t in
            let page = try await Self.raw(t, "/inbox/")
            let version = String(try #require(page.body.firstMatch(of: /\/assets\/([0-9a-f]{16})\//)).1)
            let refused = [
                "/assets/0000000000000000/app.js",  // another version
                "/assets/\(version)/nothing.js",
                "/assets/\(version)/index.html",  // the shell only at /inbox/, with its version filled in
                "/assets/\(version)/styles/../app.js",  // never normalised: only exact paths
                "/assets/\(version)/../../Package.swift",
                "/assets/\(version)/../openapi.yaml",
                "/assets/\(version)/..%2Fopenapi.yaml",
                "/assets/\(version)/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                "/assets/\(version)/..%2F..%2F..%2Fetc%2Fpasswd",
                "/assets/\(version)//etc/passwd",
                "/assets/\(version)/%2Fetc%2Fpasswd",
                "/assets/\(version)/styles%2Fapp.css",
                "/assets/\(version)/app.js%00",
                "/assets/..%2F..%2F/app.js",
            ]
            for path in refused {
                let answer = try await Self.raw(t, path)
                #expect(answer.status == 404, "\(path): \(answer.status)")
                #expect(answer.errorCode == "not_found", "\(path): \(answer.body.prefix(200))")
                #expect(!answer.body.contains("openapi:") && !answer.body.contains("root:"), "\(path)")
            }
            // A refused asset is a page answer too: it carries the same headers.
            Self.expectSecurityHeaders(try await Self.raw(t, "/assets/\(version)/nothing.js"), "a 404")
        }
    }
}
