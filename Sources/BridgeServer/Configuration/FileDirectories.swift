import Foundation

extension BridgeConfig {
    /// Every directory of files the bridge keeps besides its database, by a short name that is also
    /// its folder in a backup. `bridge backup` copies each one that exists and `bridge restore` puts
    /// each back where this configuration keeps it: a new kind of stored file gets a line here.
    var fileDirectories: [(name: String, path: String)] {
        [
            ("attachments", mediaDirectory),
            // Agents' uploaded images, beside the attachments (`UploadStore`).
            ("uploads", uploadsDirectory),
        ]
    }
}
