import HounsfieldCore
/// One series that forms one volume: its slices sorted in space, its geometry as acquired, and everything discovery
/// noticed about it. Made by `SeriesScanner`; `loadVolume(_:)` decodes it.
public struct SeriesDescriptor: Sendable, Identifiable {
    /// Stable identity: the SeriesInstanceUID, plus `#reason-n` when one UID had to be split into several volumes.
    public var key: String
    /// The same as ``key``, for `Identifiable`.
    public var id: String { key }
    /// The SeriesInstanceUID the slices share (several descriptors share it when a series was split), or a
    /// `no-series-uid:` stand-in when the files have none (absent or empty): with their StudyInstanceUID, or
    /// `no-series-uid:geometry:` with the frame of reference and grid they were grouped by.
    public var seriesInstanceUID: String
    /// StudyInstanceUID of the first image.
    public var studyInstanceUID: String?
    /// Modality of the first image, such as `CT`.
    public var modality: String?
    /// SeriesDescription of the first image, as the scanner wrote it.
    public var seriesDescription: String?
    /// The image objects (files or buffers) the slices come from.
    public var images: [ImageHeader]
    /// The slices in volume order: k grows along the slice normal.
    public var slices: [Slice]
    /// Sorted positions and what their gaps say (tilt, spacing).
    public var layout: StackLayout
    /// Voxel counts of the stack as acquired.
    public var size: GridSize
    /// The stack's geometry as acquired, as SimpleITK's `ImageSeriesReader` reports it: origin at the first slice,
    /// direction `[row | column | normal]`, z spacing = extent / (slices − 1). For a tilted or unevenly spaced stack
    /// this is an approximation; `plannedGrid(for:)` gives the exact grid the loaded volume will have.
    public var geometry: Geometry
    /// What a user should know before trusting the volume: tilt, uneven spacing, missing or duplicate slices, padding.
    public var warnings: [SeriesWarning]
    /// How discovery built this series, in sentences: grouping, splitting, sorting.
    public var notes: [String]
    /// Slices of this series that were dropped, with reasons (also listed in `ScanResult.excluded`).
    public var excluded: [ExcludedFile]
    /// How this descriptor was cut out of its SeriesInstanceUID, in the order the splits were made; empty when it
    /// holds the whole UID (less any dropped slices).
    public var splits: [SeriesSplit] = []

    /// SOPClassUIDs of the images, without repeats, in first-seen order.
    public var sopClassUIDs: [String] {
        var seen = Set<String>()
        return images.compactMap(\.sopClassUID).filter { seen.insert($0).inserted }
    }

    /// ImageType values of the images as written (`DERIVED\SECONDARY\REF_SURVIEW`), without repeats, in first-seen
    /// order.
    public var imageTypes: [String] {
        var seen = Set<String>()
        return images.map { $0.imageType.joined(separator: "\\") }.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// What the series is when its images are pictures (a secondary capture, a screenshot of a dose report or of
    /// the scanner's screen) rather than slices acquired by the scanner; nil for acquired images.
    public var secondaryCapture: SecondaryCapture? { SecondaryCapture(images) }

    /// The split that separated this series from other images at the same positions (by AcquisitionNumber,
    /// TemporalPosition, EchoNumbers, TriggerTime or order of appearance), when there was one.
    public var repeatedPositionSplit: SeriesSplit? { splits.last { $0.reason == .repeatedPositions } }

    /// Transfer syntax UIDs of the images, without repeats, in first-seen order.
    public var transferSyntaxes: [String] {
        var seen = Set<String>()
        return images.map(\.transferSyntaxUID).filter { seen.insert($0).inserted }
    }

    /// Number of distinct files (or buffers).
    public var fileCount: Int { Set(images.map(\.source.name)).count }

    /// The padding range of the first image that declares one.
    public var pixelPadding: ClosedRange<Int>? { images.lazy.compactMap(\.pixelPadding).first }
}

/// One slice of a series: one frame of one image object, with its own position and rescale.
public struct Slice: Hashable, Sendable {
    /// Index into `SeriesDescriptor.images`.
    public var image: Int
    /// Frame within that image (0 for single-frame files).
    public var frame: Int
    /// ImagePositionPatient of the slice: the centre of its first pixel, in LPS millimetres.
    public var position: Vector3
    /// The slice's own RescaleSlope (it can differ between slices, and is applied per slice).
    public var rescaleSlope: Double
    /// The slice's own RescaleIntercept, in HU.
    public var rescaleIntercept: Double
    /// InstanceNumber of the image, kept for reports and to break ties; it never decides the order.
    public var instanceNumber: Int?
}

/// One split of a SeriesInstanceUID into several series: why, and which part this is.
public struct SeriesSplit: Hashable, Sendable {
    /// Why the UID was split.
    public enum Reason: String, Hashable, Sendable {
        /// Slices that are not parallel (`#orientation-n`).
        case orientation
        /// Different rows, columns or pixel spacing (`#shape-n`).
        case shape
        /// Several images at the same positions (`#acquisition-n`, `#phase-n`, `#echo-n`, `#trigger-n`, `#repeat-n`).
        case repeatedPositions = "repeated_positions"
        /// Runs of even spacing under the `split` spacing policy (`#run-n`).
        case spacingRun = "spacing_run"
    }

    /// Why the UID was split.
    public var reason: Reason
    /// Which part this series is, from 1.
    public var part: Int
    /// How many parts the split made.
    public var parts: Int
    /// How many slices the group held before this split.
    public var slicesBefore: Int
    /// The attribute that told the parts apart (`AcquisitionNumber`, …); nil when it was order of appearance or the
    /// reason itself (orientation, shape, spacing).
    public var attribute: String?

    /// The split in words: `part 2 of 4 (8 images at repeated positions, told apart by AcquisitionNumber)`.
    public var sentence: String {
        switch reason {
        case .orientation: "part \(part) of \(parts) (split by orientation)"
        case .shape: "part \(part) of \(parts) (split by image shape)"
        case .spacingRun: "part \(part) of \(parts) (split into evenly spaced runs)"
        case .repeatedPositions:
            "part \(part) of \(parts) (\(slicesBefore) images at repeated positions, told apart by "
                + (attribute ?? "order of appearance") + ")"
        }
    }
}

/// Why a series' images are pictures rather than acquired slices: their SOP class is one of the Secondary Capture
/// classes, or their ImageType names a screenshot (`SCREEN SAVE`, `DOSE_INFO`, …). Every image of the series must
/// say so: one stray picture does not make a volume a screenshot.
public struct SecondaryCapture: Hashable, Sendable, CustomStringConvertible {
    /// The Secondary Capture SOP classes: single-frame, and the multi-frame single bit, grayscale byte, grayscale
    /// word and true colour ones.
    public static let sopClasses: [String: String] = [
        "1.2.840.10008.5.1.4.1.1.7": "Secondary Capture Image Storage",
        "1.2.840.10008.5.1.4.1.1.7.1": "Multi-frame Single Bit Secondary Capture Image Storage",
        "1.2.840.10008.5.1.4.1.1.7.2": "Multi-frame Grayscale Byte Secondary Capture Image Storage",
        "1.2.840.10008.5.1.4.1.1.7.3": "Multi-frame Grayscale Word Secondary Capture Image Storage",
        "1.2.840.10008.5.1.4.1.1.7.4": "Multi-frame True Color Secondary Capture Image Storage",
    ]
    /// ImageType values that scanners write on pictures of their screen or of a report (GE `SCREEN SAVE`, Philips
    /// `DOSE_INFO` and `PATIENT_INFO`, Siemens `CSA REPORT`), whatever the SOP class.
    public static let screenshotImageTypes: Set<String> = [
        "SCREEN SAVE", "SCREENSHOT", "SCREEN_SAVE", "DOSE_INFO", "DOSE INFO", "DOSE REPORT", "PATIENT_INFO",
        "CSA REPORT",
    ]

    /// The SOP class UID, when it is a Secondary Capture class.
    public var sopClassUID: String?
    /// The ImageType of the first image, as written.
    public var imageType: String

    /// Nil unless every image is a secondary capture or a screenshot.
    init?(_ images: [ImageHeader]) {
        guard let first = images.first, images.allSatisfy(Self.isCapture) else { return nil }
        sopClassUID = first.sopClassUID.flatMap { Self.sopClasses[$0] == nil ? nil : $0 }
        imageType = first.imageType.joined(separator: "\\")
    }

    static func isCapture(_ image: ImageHeader) -> Bool {
        if let uid = image.sopClassUID, sopClasses[uid] != nil { return true }
        return image.imageType.contains { screenshotImageTypes.contains($0) }
    }

    /// `secondary capture (SOP class Secondary Capture Image Storage, ImageType DERIVED\SECONDARY\REF_SURVIEW)`.
    public var description: String {
        let type = imageType.isEmpty ? "no ImageType" : "ImageType \(imageType)"
        if let uid = sopClassUID {
            return "secondary capture (SOP class \(Self.sopClasses[uid]!) \(uid), \(type))"
        }
        return "screenshot (\(type))"
    }
}
