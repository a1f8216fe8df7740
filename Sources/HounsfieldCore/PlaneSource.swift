/// A volume that is not held in memory: each plane (one z index, `size.x × size.y` voxels, x fastest) is made when
/// it is read, such as a DICOM series decoded slice by slice.
///
/// Why: a transform that reads its input one plane at a time (resampling does) can take its planes straight from
/// the decoder. The decoded volume, the largest buffer of a run (315 MB for a 512×512×300 CT in Float32), is then
/// never allocated: no memory to hold, none for the kernel to zero, no pass to write it and another to read it back.
public protocol PlaneSource: Sendable {
    /// The voxel counts of the volume the planes make up.
    var size: GridSize { get }
    /// Where that volume sits in patient space.
    var geometry: Geometry { get }

    /// Writes plane `z` into `plane` (`size.x × size.y` values). Called from several threads at once, each for a
    /// different plane, and possibly more than once for the same plane; every call gives the same values.
    func read(plane z: Int, into plane: UnsafeMutablePointer<Float32>) throws
}
