import CHDF5Shim
import HounsfieldCore

/// The element types a shard dataset can hold, named as numpy names them.
public enum ShardElementType: String, Sendable, Hashable, Codable, CaseIterable {
    /// `float32` (4 bytes), `float16` (2), `int16` (2, HU or scaled values), `uint8` (1, labels or windowed images),
    /// `uint16` (2, label maps with a class value above 255; never an image's type).
    case float32, float16, int16, uint8, uint16

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float32: 4
        case .float16, .int16, .uint16: 2
        case .uint8: 1
        }
    }

    var hdf5Code: Int32 {
        switch self {
        case .float32: Int32(HF5_FLOAT32)
        case .float16: Int32(HF5_FLOAT16)
        case .int16: Int32(HF5_INT16)
        case .uint8: Int32(HF5_UINT8)
        case .uint16: Int32(HF5_UINT16)
        }
    }

    init?(hdf5Code: Int32) {
        guard let type = Self.allCases.first(where: { $0.hdf5Code == hdf5Code }) else { return nil }
        self = type
    }
}

/// A voxel type that shards store as is (little-endian, as every platform Swift runs on).
public protocol ShardScalar: VoxelScalar {
    /// The dataset element type this scalar is stored as.
    static var shardElementType: ShardElementType { get }
}

extension Float32: ShardScalar { public static var shardElementType: ShardElementType { .float32 } }
extension Int16: ShardScalar { public static var shardElementType: ShardElementType { .int16 } }
extension UInt8: ShardScalar { public static var shardElementType: ShardElementType { .uint8 } }
extension UInt16: ShardScalar { public static var shardElementType: ShardElementType { .uint16 } }
#if !(os(macOS) && arch(x86_64))
extension Float16: ShardScalar { public static var shardElementType: ShardElementType { .float16 } }
#endif
