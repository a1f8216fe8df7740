import HounsfieldCore
/// Something about a series that a user should know before trusting its volume; each says what was found and what
/// Hounsfield does about it.
public struct SeriesWarning: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable, Codable {
        case gantryTilt = "gantry_tilt"
        case nonUniformSpacing = "non_uniform_spacing"
        case missingSlices = "missing_slices"
        case duplicateSlices = "duplicate_slices"
        case pixelPadding = "pixel_padding"
        case instanceOrderNotSpatial = "instance_order_not_spatial"
        case rescaleVaries = "rescale_varies"
        case assumedGeometry = "assumed_geometry"
        case singleSlice = "single_slice"
    }

    public var kind: Kind
    public var message: String
    /// The measured quantity, where there is one: tilt in degrees, largest spacing deviation in mm, a count.
    public var value: Double?

    public init(_ kind: Kind, _ message: String, value: Double? = nil) {
        self.kind = kind
        self.message = message
        self.value = value
    }

    public var description: String { message }
}
