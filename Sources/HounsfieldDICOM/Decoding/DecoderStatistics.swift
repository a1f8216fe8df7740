import CDCMTKShim

/// Which decoder handled the frames of this process, where Hounsfield has a fast path of its own next to DCMTK.
///
/// Lossless JPEG (the usual compressed CT syntax) goes to Hounsfield's own decoder first; a frame it does not take
/// (restart intervals that end mid-row, a point transform, 8-bit samples, damaged data) is decoded by DCMTK
/// instead, with the same result. A site whose archive mostly lands in `declined` decodes at DCMTK's speed, and
/// this is how to tell.
public enum DecoderStatistics {
    /// Lossless JPEG frames decoded since the process started: by Hounsfield's decoder, and left to DCMTK.
    public static var losslessJPEGFrames: (decoded: Int, declined: Int) {
        var decoded: UInt64 = 0, declined: UInt64 = 0
        hf_lossless_jpeg_counts(&decoded, &declined)
        return (Int(decoded), Int(declined))
    }
}
