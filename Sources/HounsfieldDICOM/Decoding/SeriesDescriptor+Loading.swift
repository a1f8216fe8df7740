import HounsfieldCore

extension SeriesDescriptor {
    /// Decodes the series into a volume of Hounsfield units on the grid that `plannedGrid(for:)` describes.
    ///
    /// The work runs on Dispatch's threads, not the cooperative pool; cancelling the calling task stops it between
    /// files and throws.
    public func loadVolume(_ options: LoadOptions = LoadOptions()) async throws(DICOMError) -> Volume<Float32> {
        let cancelled = CancellationFlag()
        let series = self
        let outcome = await withTaskCancellationHandler {
            await ParallelLoop.offload { () -> Result<Volume<Float32>, DICOMError> in
                do throws(DICOMError) {
                    return .success(try series.loadVolumeSynchronously(options, isCancelled: { cancelled.isSet }))
                } catch {
                    return .failure(error)
                }
            }
        } onCancel: {
            cancelled.set()
        }
        return try outcome.get()
    }

    /// `loadVolume` converted to another scalar type (Int16 HU rounds half away from zero and saturates).
    public func loadVolume<Scalar: VoxelScalar>(
        as type: Scalar.Type, _ options: LoadOptions = LoadOptions()
    ) async throws(DICOMError) -> Volume<Scalar> {
        try await loadVolume(options).converted(to: Scalar.self)
    }

    /// The blocking form of `loadVolume`, for callers that manage their own threads.
    public func loadVolumeSynchronously(
        _ options: LoadOptions = LoadOptions(), isCancelled: @escaping @Sendable () -> Bool = { false }
    ) throws(DICOMError) -> Volume<Float32> {
        let grid = try plannedGrid(for: options)
        let stack = try SeriesDecoder.decodeStack(
            self, padding: options.padding, airValue: options.airValue, concurrency: options.concurrency,
            isCancelled: isCancelled)
        switch grid.method {
        case .stack:
            return stack
        case .evenSlices(let step):
            return StackResampler.evenSlices(stack, layout: layout, grid: grid, step: step)
        case .orthogonalGrid:
            return StackResampler.orthogonalGrid(stack, layout: layout, grid: grid, fill: Float(options.airValue))
        }
    }
}
