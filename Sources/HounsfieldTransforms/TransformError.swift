import HounsfieldCore

/// Why a transform cannot run. Raised before any work is done, naming the parameter and what to change.
public enum TransformError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A parameter (by the name users know) has `value` where it must be `expected`.
    case invalidParameter(name: String, value: String, expected: String)
    /// The input has no voxels along some axis.
    case emptyVolume(GridSize)
    /// The output would need more bytes than the transform's limit (a typo in a spacing, usually).
    case outputTooLarge(GridSize, bytes: Int, limit: Int)
    /// The input's or the reference's geometry cannot describe a grid (non-finite origin, bad spacing, skewed axes).
    case invalidGeometry(String)

    public var description: String {
        switch self {
        case .invalidParameter(let name, let value, let expected):
            "\(name) is \(value); it must be \(expected)"
        case .emptyVolume(let size):
            "the volume is empty (\(size)); nothing to transform"
        case .outputTooLarge(let size, let bytes, let limit):
            "the output would be \(size) = \(bytes / 1_048_576) MiB, above the limit of \(limit / 1_048_576) MiB; use a coarser spacing or raise the limit"
        case .invalidGeometry(let reason):
            "the input geometry is invalid: \(reason)"
        }
    }
}

/// Checks shared by the transforms: a finite number in a range, a non-empty volume.
enum Check {
    static func finite(_ value: Double, _ name: String) throws(TransformError) {
        guard value.isFinite else { throw .invalidParameter(name: name, value: "\(value)", expected: "a finite number") }
    }

    static func positive(_ value: Double, _ name: String) throws(TransformError) {
        guard value.isFinite, value > 0 else {
            throw .invalidParameter(name: name, value: "\(value)", expected: "a positive finite number")
        }
    }

    static func nonEmpty<Scalar>(_ volume: Volume<Scalar>) throws(TransformError) {
        try nonEmpty(volume.size)
    }

    static func nonEmpty(_ size: GridSize) throws(TransformError) {
        guard size.x > 0, size.y > 0, size.z > 0 else { throw .emptyVolume(size) }
    }
}
