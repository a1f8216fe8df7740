import Crypto
import Foundation
import HounsfieldCore
import HounsfieldHDF5

/// HU statistics of a series' stack as acquired, and a SHA-256 of its values.
///
/// The hash lets two readers agree on every voxel without shipping the volume: it is taken over the values as
/// little-endian Float32 in C order (`[z][y][x]`), the bytes of a float32 numpy array of the same stack
/// (`array.astype("<f4").tobytes()`), so another reader's hash (SimpleITK, pydicom) compares with it directly.
public struct HUStatistics: Codable, Hashable, Sendable {
    /// The smallest value, in HU.
    public var min: Double
    /// The largest value, in HU.
    public var max: Double
    /// The arithmetic mean, in HU.
    public var mean: Double
    /// The population standard deviation (dividing by the voxel count, as numpy's `std()` does), in HU.
    public var std: Double
    /// SHA-256 of the values as little-endian Float32 in C order, as 64 lowercase hexadecimal digits.
    public var sha256: String

    /// The statistics of `volume` (``VoxelStatistics``) and the hash of its voxels.
    public init(_ volume: Volume<Float32>) {
        let statistics = VoxelStatistics(of: volume)
        min = statistics.minimum
        max = statistics.maximum
        mean = statistics.mean
        std = statistics.standardDeviation
        sha256 = volume.voxels.withUnsafeBytes { bytes in
            // Float32 in memory is little endian on every platform Swift runs on for this tool (x86-64, arm64).
            SHA256.hash(data: bytes).hex
        }
    }
}
