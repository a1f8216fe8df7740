import Foundation
import Hounsfield
@testable import HounsfieldHDF5
import Testing

@Suite("Volume checksum: one pass that copies and hashes gives the checksum of the voxels")
struct VolumeChecksumTests {
    @Test("copying while hashing gives storedChecksum and the same bytes, for slices within one block and across blocks")
    func copyWhileHashing() throws {
        // 61×47 float32 slices are 11,468 bytes (within one 64 KiB block); 200×100 are 80,000 (two blocks).
        for size in [GridSize(x: 61, y: 47, z: 7), GridSize(x: 200, y: 100, z: 5)] {
            let volume = ShardTestSupport.phantom(size: size, seed: 11)
            var copy = [UInt8](repeating: 0, count: size.voxelCount * 4)
            let checksum = copy.withUnsafeMutableBytes { volume.copyStoredBytes(to: $0.baseAddress!) }
            #expect(checksum == volume.storedChecksum)
            #expect(copy == volume.voxels.withUnsafeBytes { Array($0) })
        }
        #expect(VolumeChecksum.placeholder.count == ShardTestSupport.phantom().storedChecksum.count)
    }
}
