import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Files only the bridge's own user may read: the database holds channel secrets and customer
/// conversations, attachments are customers' files, token files are credentials. Directories the
/// bridge creates are 0700 and files 0600, set when they are created (never widened first and
/// narrowed after, whatever the umask).
public enum PrivateFiles {
    public static let fileMode: mode_t = 0o600
    public static let directoryMode: mode_t = 0o700

    /// Creates `path` and its missing parents as 0700; an existing directory is left as it is (it
    /// may be shared, e.g. /var/lib).
    public static func createDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return }
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: NSNumber(value: directoryMode)])
        // The umask may have narrowed the mode further, never widened it; set it exactly.
        chmod(path, directoryMode)
    }

    /// Writes `data` to `path` atomically (a 0600 temporary file beside it, then a rename).
    public static func save(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp-\(UUID().uuidString)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
        guard fd >= 0 else { throw posixError("cannot create \(temporary)") }
        var written = 0
        let ok = data.withUnsafeBytes { buffer -> Bool in
            while written < buffer.count {
                let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += n
            }
            return true
        }
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            let error = posixError("cannot write \(path)")
            unlink(temporary)
            throw error
        }
    }

    /// Creates `path` with `data` only if it does not exist yet (0600 from the first byte). Returns
    /// false when it already existed, so two processes racing to create a secret keep the same one.
    public static func createExclusively(_ data: Data, at path: String) throws -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw posixError("cannot create \(path)")
        }
        defer { close(fd) }
        let ok = data.withUnsafeBytes { buffer in write(fd, buffer.baseAddress!, buffer.count) == buffer.count }
        guard ok else { throw posixError("cannot write \(path)") }
        return true
    }

    /// Narrows an existing file to 0600 (files made by older versions, or by SQLite).
    public static func restrict(_ path: String) {
        chmod(path, fileMode)
    }

    /// The permission bits of `path`, or nil when it does not exist.
    public static func mode(_ path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o777
    }

    private static func posixError(_ what: String) -> CocoaError {
        CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "\(what): \(String(cString: strerror(errno)))"])
    }
}
