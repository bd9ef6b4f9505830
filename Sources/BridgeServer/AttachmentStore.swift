import Foundation
import UniversalInbox

/// Downloaded media on local disk, one file per attachment id. Customers' files: the directory is
/// created 0700 and every file 0600.
struct AttachmentStore: Sendable {
    let directory: URL

    init(directory: String) throws {
        self.directory = URL(fileURLWithPath: directory)
        try PrivateFiles.createDirectory(directory)
    }

    /// Writes atomically and returns the file's path.
    func write(_ data: Data, attachmentId: Int64) throws -> String {
        let url = directory.appendingPathComponent("\(attachmentId)")
        try PrivateFiles.save(data, to: url.path)
        return url.path
    }
}
