import Crypto
import Foundation
import HounsfieldCore

/// The checksum of stored voxels (`docs/format.md`): SHA-256 over the per-slice SHA-256 digests, so all cores hash
/// and the value does not depend on chunking or compression.
package enum VolumeChecksum {
    static let prefix = "sha256-slices:"
    /// A stand-in of exactly a checksum's length, for laying out text that will carry a checksum not known yet.
    package static let placeholder = prefix + String(repeating: "0", count: 64)

    /// The checksum of an array of `slices` equal-size slices, C order.
    static func of(_ array: UnsafeRawBufferPointer, slices: Int) -> String {
        guard slices > 0 else { return prefix + SHA256.hash(data: Data()).hex }
        let sliceBytes = array.count / slices
        let digests = ParallelLoop.map(slices) { k in
            Array(SHA256.hash(data: UnsafeRawBufferPointer(rebasing: array[(k * sliceBytes)..<((k + 1) * sliceBytes)])))
        }
        return combine(digests)
    }

    /// Copies `source` (`slices` equal-size slices, C order) to `destination` and returns its checksum, reading
    /// the bytes once: each core copies a slice a block at a time and hashes each block while it is in its cache.
    /// A caller that must both hand the voxels on and vouch for them (the daemon's per-study answer) pays one pass
    /// over them instead of a hash pass and a copy pass.
    static func copy(_ source: UnsafeRawBufferPointer, slices: Int, to destination: UnsafeMutableRawPointer) -> String {
        guard slices > 0, let base = source.baseAddress, source.count > 0 else { return of(source, slices: slices) }
        let sliceBytes = source.count / slices
        let block = 64 << 10
        let digests = ParallelLoop.map(slices) { k in
            var hasher = SHA256()
            var offset = k * sliceBytes
            let end = offset + sliceBytes
            while offset < end {
                let length = min(block, end - offset)
                (destination + offset).copyMemory(from: base + offset, byteCount: length)
                hasher.update(bufferPointer: UnsafeRawBufferPointer(start: base + offset, count: length))
                offset += length
            }
            return Array(hasher.finalize())
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

    /// Copies the voxels as stored (C order, `size.voxelCount` scalars) to `destination` and returns
    /// ``storedChecksum``, reading them once.
    package func copyStoredBytes(to destination: UnsafeMutableRawPointer) -> String {
        voxels.withUnsafeBytes { VolumeChecksum.copy($0, slices: size.z, to: destination) }
    }
}
