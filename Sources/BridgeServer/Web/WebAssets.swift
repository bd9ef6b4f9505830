import ChannelKit
import Foundation
import NIOCore

/// The web pages' files (`Resources/web/`, embedded in the executable), read once when the bridge
/// is built and kept in memory: requests are answered from this map only, so no request path ever
/// reaches the file system.
///
/// Every file but the shells (`index.html` for the inbox, `console.html` for the console) is served
/// at `/assets/<version>/<path>`, where `version` is a hash over the whole bundle: a new build gets
/// new URLs, so browsers may cache each file for a year, and the modules' relative imports all
/// resolve inside one version.
struct WebAssets: Sendable {
    struct Asset: Sendable {
        var body: ByteBuffer
        var contentType: String
    }

    /// The pages' shells: served at their own routes, never cached, never under `/assets/`.
    static let shellNames = ["index.html", "console.html"]

    /// Hex digest prefix over every file's path and contents.
    let version: String

    /// By path relative to `web/` (`app.js`, `components/ticket-list.js`), without the shells.
    let files: [String: Asset]
    /// Each shell by file name, with `{{assets}}` replaced by `/assets/<version>`.
    let shells: [String: ByteBuffer]

    /// The URL prefix the files are served under.
    var prefix: String { "/assets/\(version)" }

    /// Reads the bundled `web/` folder.
    static func bundled() throws -> WebAssets {
        guard let root = Bundle.module.resourceURL?.appendingPathComponent("web", isDirectory: true) else {
            throw StartupError(description: "the web pages are not bundled (no resources)")
        }
        return try load(directory: root)
    }

    static func load(directory root: URL) throws -> WebAssets {
        var contents: [String: Data] = [:]
        let base = root.standardizedFileURL.path + "/"
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles]) else {
            throw StartupError(description: "the web pages are not bundled (\(root.path) cannot be read)")
        }
        for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
            let path = url.standardizedFileURL.path
            guard path.hasPrefix(base) else { continue }
            contents[String(path.dropFirst(base.count))] = try Data(contentsOf: url)
        }
        var templates: [String: Data] = [:]
        for shell in shellNames {
            guard let template = contents.removeValue(forKey: shell) else {
                throw StartupError(description: "the web pages are not bundled (\(root.path)/\(shell) is missing)")
            }
            templates[shell] = template
        }
        var hashed = Data()
        for (path, data) in contents.sorted(by: { $0.key < $1.key }) + shellNames.compactMap({ name in templates[name].map { (name, $0) } }) {
            hashed.append(contentsOf: Array("\(path)\u{0}\(data.count)\u{0}".utf8))
            hashed.append(data)
        }
        let version = String(Signatures.sha256Hex(hashed).prefix(16))
        return WebAssets(
            version: version,
            files: Dictionary(uniqueKeysWithValues: contents.map { ($0.key, Asset(body: ByteBuffer(bytes: $0.value), contentType: contentType(forPath: $0.key))) }),
            shells: templates.mapValues {
                ByteBuffer(string: String(decoding: $0, as: UTF8.self).replacingOccurrences(of: "{{assets}}", with: "/assets/\(version)"))
            })
    }

    /// The `Content-Type` for a file name (text as UTF-8); unknown kinds are bytes, which `nosniff` keeps so.
    static func contentType(forPath path: String) -> String {
        switch path.split(separator: ".").last.map({ $0.lowercased() }) {
        case "html": "text/html; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "json": "application/json"
        case "webmanifest": "application/manifest+json"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "ico": "image/x-icon"
        case "webp": "image/webp"
        case "woff2": "font/woff2"
        case "mp3": "audio/mpeg"
        case "ogg": "audio/ogg"
        case "wav": "audio/wav"
        case "txt": "text/plain; charset=utf-8"
        default: "application/octet-stream"
        }
    }
}
