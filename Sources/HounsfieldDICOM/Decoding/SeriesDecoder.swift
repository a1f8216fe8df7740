import HounsfieldCore

/// Decodes the slices of a series in parallel, straight into one volume buffer: memory is the volume plus one
/// decoded file per worker.
enum SeriesDecoder {
    /// The sorted stack in HU, with the series' as-acquired geometry.
    static func decodeStack(
        _ series: SeriesDescriptor, padding: PaddingPolicy, airValue: Double, concurrency: Int,
        isCancelled: @escaping @Sendable () -> Bool = { false }
    ) throws(DICOMError) -> Volume<Float32> {
        var slicesOfImage = [[(frame: Int, z: Int)]](repeating: [], count: series.images.count)
        for (z, slice) in series.slices.enumerated() { slicesOfImage[slice.image].append((slice.frame, z)) }
        let plane = series.size.voxelsPerSlice
        let failure = ErrorSlot<DICOMError>()

        let volume = Volume<Float32>(size: series.size, geometry: series.geometry) { buffer in
            let slots = DisjointSlots(buffer)
            ParallelLoop.forEach(series.images.count, concurrency: concurrency) { imageIndex in
                guard failure.first == nil else { return }
                if isCancelled() {
                    failure.record(.cancelled(series: series.key))
                    return
                }
                let image = series.images[imageIndex]
                do throws(DICOMError) {
                    try decode(image, slices: slicesOfImage[imageIndex], series: series, padding: padding,
                               airValue: Float(airValue), plane: plane) { z in slots.base + z * plane }
                } catch {
                    failure.record(error)
                }
            }
            if failure.first != nil {
                // Every voxel must be initialized before the array is handed back, even on failure.
                buffer.initialize(repeating: 0)
            }
        }
        if let error = failure.first { throw error }
        return volume
    }

    /// Decodes slice `z` alone into `buffer` (one plane), for readers that never hold the whole stack
    /// (`SeriesPlanes`). Opens the slice's file each time: meant for series of one frame per file.
    static func decodeSlice(
        _ z: Int, of series: SeriesDescriptor, padding: PaddingPolicy, airValue: Double,
        into buffer: UnsafeMutablePointer<Float32>
    ) throws(DICOMError) {
        let slice = series.slices[z]
        try decode(series.images[slice.image], slices: [(slice.frame, z)], series: series, padding: padding,
                   airValue: Float(airValue), plane: series.size.voxelsPerSlice) { _ in buffer }
    }

    /// Decodes the frames of one file; slice `z` goes to `destination(z)`.
    private static func decode(
        _ image: ImageHeader, slices: [(frame: Int, z: Int)], series: SeriesDescriptor, padding: PaddingPolicy,
        airValue: Float, plane: Int, destination: (Int) -> UnsafeMutablePointer<Float32>
    ) throws(DICOMError) {
        // Other compressed pixels are decoded by the shim from the file; reading them natively first would read
        // the file twice.
        let reader: DICOMObject.Reader =
            LittleEndianDataSet.decodesPixels(ofTransferSyntax: image.transferSyntaxUID) ? .automatic : .dcmtk
        let object = try image.source.open(headerOnly: false, reader: reader)
        let format = StoredValueFormat(image)
        let frameBytes = plane * format.bytesPerSample
        do {
            try object.withDecodedPixels(
                rows: image.rows, columns: image.columns, frames: image.frames.count,
                bitsAllocated: image.bitsAllocated, samplesPerPixel: image.samplesPerPixel
            ) { pixels in
                for (frame, z) in slices {
                    let slice = series.slices[z]
                    format.convert(
                        pixels.baseAddress! + frame * frameBytes, count: plane, slope: slice.rescaleSlope,
                        intercept: slice.rescaleIntercept, padding: padding == .air ? image.pixelPadding : nil,
                        paddingValue: airValue, into: destination(z))
                }
            }
        } catch let failure as NativeFailure {
            throw DICOMError(failure, file: image.source.name)
        } catch {
            throw .decodeFailed(file: image.source.name, reason: "\(error)")
        }
    }
}
