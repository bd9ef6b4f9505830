import Crypto
import Foundation
import UniversalInbox

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Copies of customers' files and the database for backups: every directory made 0700 and every
/// file 0600 from the moment it exists (`PrivateFiles`), whatever the source's modes were.
enum PrivateCopy {
    /// Copies `source` to the new file `destination` (it must not exist) in chunks, and returns
    /// the SHA-256 of the bytes written.
    @discardableResult
    static func file(_ source: String, to destination: String) throws -> String {
        guard let input = FileHandle(forReadingAtPath: source) else { throw BackupError("cannot read \(source)") }
        defer { try? input.close() }
        let fd = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, PrivateFiles.fileMode)
        guard fd >= 0 else { throw BackupError("cannot create \(destination): \(String(cString: strerror(errno)))") }
        let output = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var hash = SHA256()
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
            hash.update(data: chunk)
            try output.write(contentsOf: chunk)
        }
        try output.synchronize()
        try output.close()
        return hash.finalize().hex
    }

    /// Copies every regular file under `source` into `destination` (created; must not exist) with
    /// the same relative paths; returns how many files. Temporary files of writes in progress
    /// (`PrivateFiles.save`'s `.tmp-`) are left out: the finished file is what counts.
    static func tree(_ source: String, to destination: String) throws -> Int {
        try makeDirectory(destination)
        let root = URL(fileURLWithPath: source).standardizedFileURL
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isDirectoryKey, .isRegularFileKey]) else {
            throw BackupError("cannot read \(source)")
        }
        var count = 0
        for case let url as URL in walker {
            let values = try url.resourceValues(forKeys: [.isDirectoryKey, .isRegularFileKey])
            let relative = String(url.standardizedFileURL.path.dropFirst(root.path.count + 1))
            let target = destination + "/" + relative
            if values.isDirectory == true {
                try makeDirectory(target)
            } else if values.isRegularFile == true, !url.lastPathComponent.contains(".tmp-") {
                do {
                    try file(url.path, to: target)
                    count += 1
                } catch where !FileManager.default.fileExists(atPath: url.path) {
                    // Deleted since the listing (an upload past its retention): not needed.
                }
            }
        }
        return count
    }

    static func makeDirectory(_ path: String) throws {
        guard mkdir(path, PrivateFiles.directoryMode) == 0 else {
            throw BackupError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        chmod(path, PrivateFiles.directoryMode)
    }

    /// The SHA-256 of a file's bytes, as lowercase hex.
    static func sha256(of path: String) throws -> String {
        guard let input = FileHandle(forReadingAtPath: path) else { throw BackupError("cannot read \(path)") }
        defer { try? input.close() }
        var hash = SHA256()
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty { hash.update(data: chunk) }
        return hash.finalize().hex
    }
}

extension SHA256Digest {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
