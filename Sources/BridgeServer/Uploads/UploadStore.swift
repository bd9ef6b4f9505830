import ChannelKit
import Foundation
import UniversalInbox

/// Images agents upload to send (`POST /api/v1/uploads`), kept privately (directory 0700, files
/// 0600) as `<id>.<ext>` in `uploads/` beside the attachments. The platforms fetch them without
/// credentials at `/media/<id>/<signature>`, where the signature is an HMAC-SHA256 over the id
/// with a random key kept in `media-link-key` in the data directory (like the history links' key):
/// the id alone, or the list of ids, opens nothing. Deleting the key file (and restarting) makes
/// every link 404.
struct UploadStore: Sendable {
    static let keyFile = "media-link-key"
    let directory: URL
    private let key: String

    init(directory: String, key: String) throws {
        self.directory = URL(fileURLWithPath: directory)
        self.key = key
        try PrivateFiles.createDirectory(directory)
    }

    /// The store of the bridge whose data directory is `keyDirectory`, creating its key on first use.
    static func open(directory: String, keyDirectory: String) throws -> UploadStore {
        try UploadStore(directory: directory, key: SecretFile.loadOrCreate(keyFile, in: keyDirectory).value)
    }

    /// Saves an image already checked to be `type`; returns its new id.
    func save(_ data: Data, type: ImageType) throws -> String {
        let id = Self.newId()
        try PrivateFiles.save(data, to: file(id, type).path)
        return id
    }

    /// `/media/<id>/<signature>`: the path the platforms fetch the image at.
    func path(id: String) -> String { "/media/\(id)/\(signature(id))" }

    /// The bytes and type of the upload a link names, or nil when the id is unknown or malformed or
    /// the signature wrong (the caller must not say which).
    func read(id: String, signature given: String) -> (data: Data, type: ImageType)? {
        guard Self.isId(id), Signatures.constantTimeEquals(signature(id), given) else { return nil }
        return stored(id: id)
    }

    /// The bytes and type of a file the bridge kept itself (a website visitor's image, staged here
    /// until the follow-up worker copies it into the attachment store), by id alone: for the
    /// bridge's own use, never for a link.
    func stored(id: String) -> (data: Data, type: ImageType)? {
        guard Self.isId(id) else { return nil }
        for type in ImageType.allCases {
            if let data = FileManager.default.contents(atPath: file(id, type).path) { return (data, type) }
        }
        return nil
    }

    /// Deletes a kept file (a staged image once copied, or one whose post was a duplicate).
    func remove(id: String) {
        guard Self.isId(id) else { return }
        for type in ImageType.allCases { try? FileManager.default.removeItem(at: file(id, type)) }
    }

    /// Deletes uploads last written before `date`; returns how many.
    func deleteOlder(than date: Date) -> Int {
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: [.contentModificationDateKey])) ?? []
        var deleted = 0
        for url in files {
            guard let modified = try? url.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate, modified < date else { continue }
            if (try? FileManager.default.removeItem(at: url)) != nil { deleted += 1 }
        }
        return deleted
    }

    private func file(_ id: String, _ type: ImageType) -> URL { directory.appendingPathComponent("\(id).\(type.fileExtension)") }

    private func signature(_ id: String) -> String { Signatures.hmacSHA256Hex(secret: key, body: Data("media:\(id)".utf8)) }

    /// 16 random bytes as hex: unguessable, and safe in a path and a file name.
    private static func newId() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    private static func isId(_ text: String) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
