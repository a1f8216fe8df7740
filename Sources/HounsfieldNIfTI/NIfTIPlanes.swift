import HounsfieldCore

/// One volume of a NIfTI image read plane by plane (``NIfTIImage/planes(_:isCancelled:)``): the inflated file is
/// held, and each plane is scaled to Float32 only when a transform asks for it.
public struct NIfTIPlanes: PlaneSource {
    let image: NIfTIImage
    let volume: Int
    let isCancelled: @Sendable () -> Bool

    /// The image's voxel counts.
    public var size: GridSize { image.size }
    /// The image's grid in LPS.
    public var geometry: Geometry { image.geometry }

    /// Converts plane `z` (scaled, as ``NIfTIImage/volume(_:)`` gives it); throws `CancellationError` once cancelled.
    public func read(plane z: Int, into plane: UnsafeMutablePointer<Float32>) throws {
        if isCancelled() { throw CancellationError() }
        image.read(volume: volume, plane: z, into: plane)
    }
}
