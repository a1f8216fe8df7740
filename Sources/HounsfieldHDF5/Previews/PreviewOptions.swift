/// QC previews: one JPEG per volume with its three mid-slices, and an `index.html` that shows them all.
public struct PreviewOptions: Sendable, Hashable {
    /// How stored values map to gray levels.
    public enum Window: Sendable, Hashable {
        /// A HU window (level, width): for volumes stored in HU.
        case hounsfield(level: Double, width: Double)
        /// From the 0.5th to the 99.5th percentile of the shown slices: for normalized or windowed volumes.
        case percentiles
        /// HU soft tissue (40 / 400) when the volume is in HU (no window or normalization recorded), else
        /// percentiles.
        case automatic
    }

    /// How stored values map to gray levels (default: automatic).
    public var window: Window
    /// Pixels along the longest physical extent of the volume, per view.
    public var size: Int
    /// JPEG quality, 1…100.
    public var quality: Int

    /// Previews of `size` pixels per view at JPEG `quality`.
    public init(window: Window = .automatic, size: Int = 256, quality: Int = 85) {
        self.window = window
        self.size = size
        self.quality = quality
    }
}
