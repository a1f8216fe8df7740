import HounsfieldCore
/// One series that forms one volume: its slices sorted in space, its geometry as acquired, and everything discovery
/// noticed about it. Made by `SeriesScanner`; `loadVolume(_:)` decodes it.
public struct SeriesDescriptor: Sendable, Identifiable {
    /// Stable identity: the SeriesInstanceUID, plus `#reason-n` when one UID had to be split into several volumes.
    public var key: String
    /// The same as ``key``, for `Identifiable`.
    public var id: String { key }
    /// The SeriesInstanceUID the slices share (several descriptors share it when a series was split), or a
    /// `no-series-uid:` stand-in when the files have none.
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
