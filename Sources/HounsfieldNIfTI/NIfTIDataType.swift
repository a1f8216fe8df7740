/// The voxel types the reader accepts: NIfTI's scalar integer and floating-point datatypes.
///
/// The raw value is the header's `datatype` code, so a header maps onto a case directly; codes for RGB, complex,
/// binary and float128 voxels have no case and are refused with ``NIfTIError/Reason/unsupportedDataType(_:)``.
public enum NIfTIDataType: Int, Hashable, Sendable, CaseIterable {
    /// `DT_UINT8` (2): label maps and masks.
    case uint8 = 2
    /// `DT_INT16` (4): most CT images.
    case int16 = 4
    /// `DT_INT32` (8).
    case int32 = 8
    /// `DT_FLOAT32` (16).
    case float32 = 16
    /// `DT_FLOAT64` (64).
    case float64 = 64
    /// `DT_INT8` (256).
    case int8 = 256
    /// `DT_UINT16` (512): label maps with more than 255 classes, some CT.
    case uint16 = 512
    /// `DT_UINT32` (768).
    case uint32 = 768
    /// `DT_INT64` (1024).
    case int64 = 1024
    /// `DT_UINT64` (1280).
    case uint64 = 1280

    /// Bytes per voxel.
    public var byteCount: Int {
        switch self {
        case .uint8, .int8: 1
        case .int16, .uint16: 2
        case .int32, .uint32, .float32: 4
        case .int64, .uint64, .float64: 8
        }
    }

    /// Whether the voxels are integers (label maps must be).
    public var isInteger: Bool { self != .float32 && self != .float64 }

    /// The NIfTI name of any datatype code, for messages about refused types.
    public static func name(ofCode code: Int) -> String {
        switch code {
        case 0: "unknown"
        case 1: "binary"
        case 32: "complex64"
        case 128: "RGB24"
        case 1536: "float128"
        case 1792: "complex128"
        case 2048: "complex256"
        case 2304: "RGBA32"
        default: NIfTIDataType(rawValue: code).map { "\($0)" } ?? "not a NIfTI datatype"
        }
    }
}
