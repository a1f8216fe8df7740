import Crypto
import Foundation
import HounsfieldCore
import HounsfieldHDF5
import HounsfieldNIfTI

/// A NIfTI image among a run's inputs, planned as one volume: a case of an nnU-Net raw dataset, an image of a
/// `X.nii.gz` / `X_seg.nii.gz` pair, or a CT on its own (TotalSegmentator's `ct.nii.gz`). It goes through the same
/// chain, shard writer and labels as a DICOM series; what DICOM tells and NIfTI does not (study, modality unless
/// `dataset.json` names the channel) is left empty.
public struct NIfTIInput: Sendable {
    /// The image file.
    public var file: String
    /// What the output key is made from (hashed unless identifiers are kept): `nifti:` + the file's folder and name +
    /// `#` + 16 hex digits of the SHA-256 of its first mebibyte as stored. Stable when the data moves and the same
    /// for `run` and for a worker that reaches the file through another study folder; two different files with one
    /// name in folders of one name still differ (decision 61).
    public var identity: String
    /// Voxels along x, y, z, as the header says.
    public var size: GridSize
    /// The grid in LPS (ITK's rule, as SimpleITK reads the file).
    public var geometry: Geometry
    /// The channel's name in `dataset.json` (`CT`), when the image belongs to an nnU-Net dataset that names it.
    public var modality: String?
    /// The case identifier (nnU-Net) or the file name without its ending: the report's and manifest's description.
    public var description: String

    /// The input read from `preview`, described as `description`.
    init(preview: NIfTIPreview, description: String, modality: String?) {
        file = preview.path
        size = preview.size
        geometry = preview.geometry
        self.description = description
        self.modality = modality
        let folder = ((preview.path as NSString).deletingLastPathComponent as NSString).lastPathComponent
        let name = (preview.path as NSString).lastPathComponent
        let digest = SHA256.hash(data: preview.storedPrefix).hex.prefix(16)
        identity = "nifti:\(folder)/\(name)#\(digest)"
    }

    /// The image as Float32 with `scl_slope`/`scl_inter` applied (HU for a CT), on its grid in LPS. Throws
    /// ``NIfTIError`` naming the file.
    public func decode() throws(NIfTIError) -> Volume<Float32> {
        try image().volume(0)
    }

    /// The image as planes converted when read (``NIfTIImage/planes(_:isCancelled:)``): the file is read and
    /// inflated here.
    func planes(isCancelled: @escaping @Sendable () -> Bool) throws(NIfTIError) -> NIfTIPlanes {
        try image().planes(0, isCancelled: isCancelled)
    }

    /// The file read whole; it must still be one volume (it may have changed since discovery).
    private func image() throws(NIfTIError) -> NIfTIImage {
        let image = try NIfTIImage(contentsOf: file)
        guard image.volumeCount == 1 else {
            throw NIfTIError(path: file, reason: .volumeOutOfRange(1, count: image.volumeCount))
        }
        return image
    }
}
