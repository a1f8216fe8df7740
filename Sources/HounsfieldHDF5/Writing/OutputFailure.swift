import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The output could not be written: a full disk, a failed write, flush or fsync, a folder that was removed.
///
/// When a ``ShardWriter`` meets one, the shard it was writing stays `NAME.h5.partial` (never renamed, never in a
/// manifest), every shard published before it is intact with its manifest lines, and the writer takes no more
/// volumes: it throws ``ShardError/outputFailed(_:)`` from then on, `finish()` included. Resuming into the folder
/// after the cause is fixed (space freed) removes the `.partial` and writes what is missing.
public struct OutputFailure: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The file or folder that could not be written: the shard's `.partial`, a manifest, the output folder.
    public var path: String
    /// The output folder.
    public var folder: String
    /// What failed, e.g. `write`, `publish`, `fsync`, `rename`, `append`.
    public var operation: String
    /// The system error behind it when one is known (`ENOSPC`, 28, for a full disk).
    public var errno: Int32?
    /// The cause in words: "no space left on device", "the output folder no longer exists", or HDF5's message.
    public var cause: String
    /// The full message of the failing call (HDF5's error stack or the system call), for the log.
    public var detail: String

    /// A failure as described; writers make theirs from the error they met.
    public init(path: String, folder: String, operation: String, errno: Int32?, cause: String, detail: String) {
        self.path = path
        self.folder = folder
        self.operation = operation
        self.errno = errno
        self.cause = cause
        self.detail = detail
    }

    /// The output failure behind a writing error, with the file and folder it concerns. A folder that no longer
    /// exists is named as the cause, whatever the call that found out (ENOENT on a file inside it, say).
    init(_ error: ShardError, operation fallbackOperation: String, path fallbackPath: String, folder: String) {
        var code: Int32?
        var path = fallbackPath
        var operation = fallbackOperation
        var detail = error.description
        switch error {
        case .io(let failedPath, let failedOperation, let number):
            code = number
            path = failedPath
            operation = failedOperation
        case .hdf5(let failedPath, let message):
            code = Self.errno(inHDF5Message: message)
            path = failedPath.split(separator: ":", maxSplits: 1).first.map(String.init) ?? failedPath
            detail = message
        case .outputFailed(let failure):
            self = failure
            return
        default:
            break
        }
        let folderExists = FileManager.default.fileExists(atPath: folder)
        let cause: String
        if !folderExists {
            cause = "the output folder \(folder) no longer exists (removed while the run was writing)"
        } else if let code, code != 0 {
            cause = String(cString: strerror(code)).lowercased() + " (errno \(code))"
        } else {
            cause = detail
        }
        self.init(path: path, folder: folder, operation: operation, errno: code, cause: cause, detail: detail)
    }

    /// The errno the shim writes into HDF5's messages when a system call failed under it ("… (errno 28)").
    static func errno(inHDF5Message message: String) -> Int32? {
        guard let range = message.range(of: "(errno ") else { return nil }
        let digits = message[range.upperBound...].prefix { $0.isNumber }
        return Int32(digits)
    }

    enum CodingKeys: String, CodingKey { case path, folder, operation, errno, cause, detail }

    /// Whether the disk (or the user's quota) is full.
    public var isNoSpace: Bool { errno == ENOSPC || errno == EDQUOT }

    public var description: String {
        "\(path): \(operation) failed: \(cause); the shard being written stays unpublished (.partial), shards published before it are intact; fix the cause (free space), then resume"
    }
}

/// Raised once by a ``ShardWriter`` whose output failed, and readable from any task: the stages that feed the writer
/// check it to stop taking work, since every further write would fail too.
public final class OutputFailureFlag: Sendable {
    private let state = Mutex<OutputFailure?>(nil)

    /// A flag not raised yet.
    public init() {}

    /// The failure, once raised.
    public var failure: OutputFailure? { state.withLock { $0 } }
    /// Whether the output has failed.
    public var isRaised: Bool { failure != nil }

    /// Records `failure` unless one is recorded already; returns the one that stays.
    @discardableResult
    func raise(_ failure: OutputFailure) -> OutputFailure {
        state.withLock { current in
            if let current { return current }
            current = failure
            return failure
        }
    }

    /// Raises the failure that `error`, met at `operation` on `path`, is, and logs the one that stays: the writer's
    /// own calls and a publication completed beside it stop the output the same way.
    func raise(_ error: ShardError, operation: String, path: String, folder: String, logger: Logger) -> OutputFailure {
        let failure = raise(OutputFailure(error, operation: operation, path: path, folder: folder))
        logger.error("the output failed: the writer stops", metadata: [
            "path": "\(failure.path)", "operation": "\(failure.operation)", "cause": "\(failure.cause)",
            "detail": "\(failure.detail)"])
        return failure
    }
}
