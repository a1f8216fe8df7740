import HounsfieldCore
/// One series that forms one volume: its slices sorted in space, its geometry as acquired, and everything discovery
/// noticed about it. Made by `SeriesScanner`; `loadVolume(_:)` decodes it.
public struct SeriesDescriptor: Sendable, Identifiable {
    /// Stable identity: the SeriesInstanceUID, plus `#reason-n` when one UID had to be split into several volumes.
    public var key: String
    public var id: String { key }
    public var seriesInstanceUID: String
    public var studyInstanceUID: String?
    public var modality: String?
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
    public var position: Vector3
    public var rescaleSlope: Double
    public var rescaleIntercept: Double
    public var instanceNumber: Int?
}
