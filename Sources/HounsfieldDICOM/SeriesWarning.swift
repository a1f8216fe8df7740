import HounsfieldCore
/// Something about a series that a user should know before trusting its volume; each says what was found and what
/// Hounsfield does about it.
public struct SeriesWarning: Hashable, Sendable, Codable, CustomStringConvertible {
    /// What was found; the raw value is the name reports and JSON use (docs/geometry.md lists the rule behind each).
    public enum Kind: String, Hashable, Sendable, Codable {
        /// The stacking direction deviates from the slice normal by more than ``StackLayout/tiltThreshold`` degrees.
        case gantryTilt = "gantry_tilt"
        /// Some gap between slices differs from the median gap by more than max(0.01 mm, 1 % of the median).
        case nonUniformSpacing = "non_uniform_spacing"
        /// Some gaps are whole multiples (≥ 2) of the median gap: slices seem to be missing there.
        case missingSlices = "missing_slices"
        /// Copies of an instance, or extra slices at repeated positions, were dropped.
        case duplicateSlices = "duplicate_slices"
        /// The series declares PixelPaddingValue: those voxels are outside the reconstruction, not tissue.
        case pixelPadding = "pixel_padding"
        /// InstanceNumber, in spatial order, neither ascends nor descends: sorting by it would scramble the volume.
        case instanceOrderNotSpatial = "instance_order_not_spatial"
        /// RescaleSlope or RescaleIntercept differs between slices (each slice is rescaled with its own).
        case rescaleVaries = "rescale_varies"
        /// Position, orientation or pixel spacing is missing and was assumed: the geometry is a guess.
        case assumedGeometry = "assumed_geometry"
        /// One slice: its z spacing comes from SpacingBetweenSlices, else 1 mm.
        case singleSlice = "single_slice"
        /// Secondary captures or screenshots (a dose report, the scanner's screen): pictures, not acquired slices.
        case secondaryCapture = "secondary_capture"
        /// One of several images at one table position, split apart (bolus-tracking monitor images, repeated
        /// scans): a single image, not a volume.
        case repeatedPosition = "repeated_position"
        /// The files have no SeriesInstanceUID or StudyInstanceUID (absent or empty, as some anonymizers leave
        /// them): they were grouped by frame of reference, orientation, image size and pixel spacing, as dcm2niix
        /// groups them.
        case groupedWithoutSeriesUID = "grouped_without_series_uid"
        /// Instances seemed to be missing when the series was processed (gaps in its positions or InstanceNumbers),
        /// and did not come while the daemon waited for them (`serve`'s `incomplete_wait_seconds`): the volume is
        /// what arrived. A later instance of the series makes its next version.
        case incomplete
    }

    /// What was found.
    public var kind: Kind
    /// The sentence for the user: what was found and what Hounsfield does about it.
    public var message: String
    /// The measured quantity, where there is one: tilt in degrees, largest spacing deviation in mm, a count.
    public var value: Double?

    /// A warning of `kind` that says `message`, with the measured `value` where there is one.
    public init(_ kind: Kind, _ message: String, value: Double? = nil) {
        self.kind = kind
        self.message = message
        self.value = value
    }

    public var description: String { message }
}
