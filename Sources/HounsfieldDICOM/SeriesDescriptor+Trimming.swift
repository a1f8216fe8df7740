extension SeriesDescriptor {
    /// The series with only what decoding it and reporting on it need, for a series that waits in a run's queue:
    /// each image keeps its source, layout and shared attributes, but not its SOP instance UID, and its per-frame
    /// headers become placeholders (their count stays; the ``slices`` keep every frame's position and rescale).
    ///
    /// Why: a run over an archive plans thousands of series at once and keeps each until its turn. Trimmed, a
    /// waiting file costs about a third of what its full header did, so the run's peak memory hardly grows with
    /// the number of series it was given (decision 43).
    public func trimmedForDecoding() -> SeriesDescriptor {
        var trimmed = self
        var placeholders: [Int: [FrameHeader]] = [:]
        for index in trimmed.images.indices {
            let count = trimmed.images[index].frames.count
            trimmed.images[index].sopInstanceUID = nil
            trimmed.images[index].frames = placeholders[count] ?? {
                let frames = [FrameHeader](repeating: FrameHeader(rescaleSlope: 1, rescaleIntercept: 0), count: count)
                placeholders[count] = frames
                return frames
            }()
        }
        return trimmed
    }
}
