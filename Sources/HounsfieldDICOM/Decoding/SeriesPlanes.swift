import HounsfieldCore

/// A series read slice by slice: each plane is decoded from its file, in Hounsfield units, when a reader asks for
/// it. The values are those of `loadVolume` (the same decoder, slice for slice); the whole stack is never held.
///
/// A transform that reads its input plane by plane (resampling) takes planes from here directly, which saves the
/// decoded volume's memory and the time of filling it (see ``PlaneSource``).
public struct SeriesPlanes: PlaneSource {
    /// The series the planes come from.
    public let series: SeriesDescriptor
    let options: LoadOptions
    let isCancelled: @Sendable () -> Bool

    /// The series' stack: columns × rows × slices.
    public var size: GridSize { series.size }
    /// The stack's geometry, as `loadVolume` gives it for a series that needs no correction.
    public var geometry: Geometry { series.geometry }

    /// Decodes plane `z`. Throws ``DICOMError`` naming the file when it cannot be decoded, or
    /// ``DICOMError/cancelled(series:)`` once `isCancelled` says so.
    public func read(plane z: Int, into plane: UnsafeMutablePointer<Float32>) throws {
        if isCancelled() { throw DICOMError.cancelled(series: series.key) }
        try SeriesDecoder.decodeSlice(z, of: series, padding: options.padding, airValue: options.airValue, into: plane)
    }
}

extension SeriesDescriptor {
    /// The series as planes decoded on demand, or nil where it is better loaded whole with `loadVolume`: when the
    /// planned grid is not the sorted stack itself (a tilt correction or uneven slices need neighbouring slices
    /// blended first), or when a file holds several frames (each plane would decode the whole file again).
    /// Throws what `plannedGrid(for:)` throws (a `reject` policy).
    public func planes(
        _ options: LoadOptions = LoadOptions(), isCancelled: @escaping @Sendable () -> Bool = { false }
    ) throws(DICOMError) -> SeriesPlanes? {
        guard try plannedGrid(for: options).method == .stack,
              images.count == slices.count, images.allSatisfy({ $0.frames.count == 1 })
        else { return nil }
        return SeriesPlanes(series: self, options: options, isCancelled: isCancelled)
    }
}
