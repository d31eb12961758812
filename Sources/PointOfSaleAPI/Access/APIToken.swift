import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Where the till's API finds the token its POS client presents (`Authorization: Bearer TOKEN`).
/// Loopback is not authentication: a browser on the box is a client too.
public protocol APITokenSource: Sendable {
    /// The token in force now; nil when none can be read (every token-protected request is refused).
    func currentToken() -> String?
}

/// A fixed token held in memory (the demo, tests of the router).
public struct FixedAPIToken: APITokenSource {
    public let token: String
    public init(_ token: String = APITokenFile.newToken()) { self.token = token }
    public func currentToken() -> String? { token }
}

/// The token file (`api.token_file`, mode 0640, group `loyalty-pos`): read again whenever it changes,
/// so `loyalty-agent api-token --rotate` takes effect at the next request without a restart.
public final class APITokenFile: APITokenSource {
    public let path: String
    /// The file's identity when it was last read, and its token.
    private let cached = Mutex<(inode: UInt64, changedNanoseconds: Int64, token: String?)>((0, 0, nil))

    public init(path: String) { self.path = path }

    /// The token in the file now; nil (every protected request refused, as start-up would) when the
    /// file is gone, readable by others or malformed.
    public func currentToken() -> String? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & 0o007 == 0 else { return nil }
        let inode = UInt64(info.st_ino)
        let changed = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
        if let token = cached.withLock({ $0.inode == inode && $0.changedNanoseconds == changed ? $0.token : nil }) {
            return token
        }
        let token = try? Self.read(path: path)
        cached.withLock { $0 = (inode, changed, token) }
        return token
    }

    /// A new token: 32 random bytes, each half-byte one of the letters `a` to `p` (letters only, so
    /// the output redactor can never take part of it for a bank card number).
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return String(
            decoding: bytes.flatMap { [UInt8(ascii: "a") + ($0 >> 4), UInt8(ascii: "a") + ($0 & 0x0F)] }, as: UTF8.self)
    }

    /// The token in `path`: one line of 32 to 256 printable characters, in a file others cannot read.
    public static func read(path: String) throws(APITokenError) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw APITokenError(
                "the API token file \(path) does not exist; create it with `loyalty-agent api-token --rotate`")
        }
        guard info.st_mode & 0o007 == 0 else {
            throw APITokenError(
                "the API token file \(path) is readable by every user (mode \(String(info.st_mode & 0o777, radix: 8))); "
                    + "chmod 0640 it (group loyalty-pos) and rotate the token with `loyalty-agent api-token --rotate`")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw APITokenError("the API token file \(path) cannot be read; check its owner and group")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (32...256).contains(token.utf8.count), token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw APITokenError("the API token file \(path) must hold one token of 32 to 256 printable characters")
        }
        return token
    }

    /// Writes a new token to `path` (mode 0640) through a new file renamed over the old one, so a
    /// reader never sees half a token and the daemon notices the change. Returns the token.
    @discardableResult
    public static func write(path: String, token: String = newToken()) throws(APITokenError) -> String {
        let temporary = path + ".new"
        unlink(temporary)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else {
            throw APITokenError("cannot write the API token file \(path): \(String(cString: strerror(errno)))")
        }
        // The group (loyalty-pos on an installed box) and mode stay those of the file it replaces.
        var previous = stat()
        if stat(path, &previous) == 0 {
            // A token file that lost its group would be readable by the rotating user's group instead.
            guard
                fchown(descriptor, previous.st_uid, previous.st_gid) == 0
                    || (getuid() == previous.st_uid && getgid() == previous.st_gid),
                fchmod(descriptor, previous.st_mode & 0o770) == 0
            else {
                close(descriptor)
                unlink(temporary)
                throw APITokenError(
                    "cannot give the new API token file the owner and group of \(path) (uid \(previous.st_uid), gid "
                        + "\(previous.st_gid)); rotate it as root or as its owner with its group")
            }
        } else {
            _ = fchmod(descriptor, 0o640)
        }
        let bytes = Array((token + "\n").utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw APITokenError("cannot write the API token file \(path): \(String(cString: strerror(errno)))")
        }
        return token
    }

    /// Compares in time independent of where the two differ.
    static func matches(_ presented: Substring, _ expected: String) -> Bool {
        guard presented.utf8.count == expected.utf8.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(presented.utf8, expected.utf8) { difference |= a ^ b }
        return difference == 0
    }
}

/// The API token file is missing, unreadable, readable by others or malformed.
public struct APITokenError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
