import Foundation

/// Downloaded media on local disk, one file per attachment id.
struct AttachmentStore: Sendable {
    let directory: URL

    init(directory: String) throws {
        self.directory = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
    }

    /// Writes atomically and returns the file's path.
    func write(_ data: Data, attachmentId: Int64) throws -> String {
        let url = directory.appendingPathComponent("\(attachmentId)")
        try data.write(to: url, options: .atomic)
        return url.path
    }
}
