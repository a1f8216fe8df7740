/// Why writing or reading shards failed. Each case names the file (and the object inside it) and says what to do.
public enum ShardError: Error, Hashable, Sendable, CustomStringConvertible {
    /// HDF5 refused an operation on `path`.
    case hdf5(path: String, message: String)
    /// A file system operation (create, fsync, rename, append) failed.
    case io(path: String, operation: String, errno: Int32)
    /// The file is not what the format says (`docs/format.md`).
    case malformed(path: String, reason: String)
    /// The shard was written by a newer format version than this reader knows.
    case unsupportedVersion(path: String, version: Int)
    /// A dataset uses an HDF5 filter Hounsfield cannot decode.
    case unsupportedFilter(path: String, filter: Int)
    /// The requested volume is not in the shard or folder.
    case missingVolume(key: String, location: String)
    /// A volume with this key was already written to this output.
    case duplicateKey(key: String, shard: String)
    /// A stored chunk did not decompress to the expected size.
    case corruptChunk(path: String, offset: [Int])
    /// A caller's request is invalid (region outside the volume, bad key, bad option).
    case invalidRequest(String)
    /// The output could not be written (a full disk, a failed write or fsync, a removed folder): the writer stopped,
    /// its unfinished shard stays `.partial`, published shards are intact.
    case outputFailed(OutputFailure)

    /// The output failure, when this is one.
    public var outputFailure: OutputFailure? {
        if case .outputFailed(let failure) = self { failure } else { nil }
    }

    public var description: String {
        switch self {
        case .hdf5(let path, let message):
            return "\(path): HDF5 error: \(message)"
        case .io(let path, let operation, let code):
            return "\(path): \(operation) failed: \(String(cString: strerror(code))) (errno \(code)); check that the folder exists, is writable and has space"
        case .malformed(let path, let reason):
            return "\(path): not a valid Hounsfield shard: \(reason)"
        case .unsupportedVersion(let path, let version):
            return "\(path): written in shard format version \(version), newer than this reader (\(ShardFormat.version)); update Hounsfield"
        case .unsupportedFilter(let path, let filter):
            return "\(path): uses HDF5 filter \(filter), which Hounsfield cannot decode (it reads deflate, shuffle, zstd 32015, LZ4 32004 and Blosc 32001)"
        case .missingVolume(let key, let location):
            return "\(location): no volume with key '\(key)'"
        case .duplicateKey(let key, let shard):
            return "volume '\(key)' is already in \(shard); keys must be unique within an output folder"
        case .corruptChunk(let path, let offset):
            return "\(path): the chunk at \(offset) is corrupt (it does not decompress to its size); the file is damaged, rewrite it"
        case .invalidRequest(let message):
            return message
        case .outputFailed(let failure):
            return failure.description
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
