import Foundation
import HounsfieldCore

/// What discovery needs of a NIfTI file without inflating all of it: the header, the grid in LPS, and what the first
/// voxels say about the file's role.
///
/// A run over a folder of NIfTI images must not inflate every volume before the first is processed (a 512×512×300
/// int16 CT is 150 MB inflated); the header and the first mebibyte of voxels cost a few milliseconds, and for a CT
/// they already show values no label map holds.
public struct NIfTIPreview: Sendable {
    /// The file, as given.
    public let path: String
    /// The header, as stored (extensions only as far as the prefix holds them).
    public let header: NIfTIHeader
    /// The LPS geometry of every volume (ITK's rule).
    public let orientation: NIfTIOrientation
    /// Whether the voxels read hold a value no label map holds (negative, or not a whole number): the file is an
    /// image. False when the first voxels were all whole numbers of 0 or more, which a label map's always are and
    /// an image's sometimes are (a CT stored as unsigned with a zero border): only the whole file can tell then.
    public let showsImageValues: Bool
    /// The first bytes of the file as stored (up to ``prefixBytes``; compressed for `.nii.gz`): what a caller
    /// fingerprints the file by without reading it again.
    public let storedPrefix: Data

    /// How much of the file is read: the header and about the first mebibyte of voxels.
    public static let prefixBytes = 1 << 20

    /// Reads the start of `path` (gzip detected from the content). Throws ``NIfTIError`` naming the file when the
    /// header is damaged or the file cannot be read.
    public init(contentsOf path: String) throws(NIfTIError) {
        let start: Data
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            start = try handle.read(upToCount: Self.prefixBytes) ?? Data()
        } catch {
            throw NIfTIError(path: path, reason: .unreadable(error.localizedDescription))
        }
        let bytes = Gzip.isGzip(start) ? try Gzip.inflatePrefix(start, capacity: Self.prefixBytes + 65536, path: path) : start
        let image: NIfTIImage
        do {
            image = try NIfTIImage(path: path, uncompressed: bytes, isPrefix: true)
        } catch let error where error.reason.isVoxelOffset {
            // Extensions longer than the prefix (a large label table): read the whole file once.
            image = try NIfTIImage(contentsOf: path)
        }
        self.path = path
        self.storedPrefix = start
        self.header = image.header
        self.orientation = image.orientation
        self.showsImageValues = !(try image.holdsLabelValues())
    }

    /// Voxels along x, y, z of each volume.
    public var size: GridSize { header.size }
    /// Where each volume sits in patient space (LPS).
    public var geometry: Geometry { orientation.geometry }
    /// The number of 3-D volumes.
    public var volumeCount: Int { header.volumeCount }
}

extension NIfTIError.Reason {
    /// A voxel offset past the bytes read, which for a prefix means only that the header's extensions are long.
    var isVoxelOffset: Bool {
        if case .badVoxelOffset = self { true } else { false }
    }
}
