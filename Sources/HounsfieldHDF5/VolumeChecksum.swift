import Crypto
import Foundation
import HounsfieldCore

/// The checksum of stored voxels (`docs/format.md`): SHA-256 over the per-slice SHA-256 digests, so all cores hash
/// and the value does not depend on chunking or compression.
package enum VolumeChecksum {
    static let prefix = "sha256-slices:"

    /// The checksum of an array of `slices` equal-size slices, C order.
    static func of(_ array: UnsafeRawBufferPointer, slices: Int) -> String {
        guard slices > 0 else { return prefix + SHA256.hash(data: Data()).hex }
        let sliceBytes = array.count / slices
        let digests = ParallelLoop.map(slices) { k in
            Array(SHA256.hash(data: UnsafeRawBufferPointer(rebasing: array[(k * sliceBytes)..<((k + 1) * sliceBytes)])))
        }
        return combine(digests)
    }

    /// The checksum from per-slice digests already computed (in k order).
    static func combine(_ digests: [[UInt8]]) -> String {
        prefix + SHA256.hash(data: digests.flatMap { $0 }).hex
    }
}

extension Digest {
    /// The digest in lower-case hexadecimal, as checksums, keys and file names spell it.
    package var hex: String { map { String(format: "%02x", $0) }.joined() }
}

extension Volume where Scalar: ShardScalar {
    /// The checksum a shard records for these voxels when stored as they are (`checksum` in the manifest): an
    /// inference service compares its per-study result with what the batch run wrote without reading any shard.
    public var storedChecksum: String { voxels.withUnsafeBytes { VolumeChecksum.of($0, slices: size.z) } }
}
