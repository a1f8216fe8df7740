import HounsfieldCore

/// What to do with a stack whose slices are sheared by gantry tilt.
public enum TiltPolicy: String, Hashable, Sendable, Codable, CaseIterable {
    /// Resample onto an orthogonal grid aligned with the table axis, as dcm2niix does (default).
    case correct
    /// Keep the stack as acquired; its geometry is then the approximation SimpleITK reports.
    case keep
    /// Refuse the series with an error.
    case reject
}

/// What to do when the distance between slices varies.
public enum SpacingPolicy: String, Hashable, Sendable, Codable, CaseIterable {
    /// Interpolate onto evenly spaced slices (default).
    case resample
    /// Make one series per evenly spaced run (applied by the scanner).
    case split
    /// Refuse the series with an error.
    case reject
    /// Keep the stack as acquired, with the mean spacing (what SimpleITK does, with a warning).
    case keep
}

/// What to do with voxels whose stored value is the PixelPaddingValue.
public enum PaddingPolicy: String, Hashable, Sendable, Codable, CaseIterable {
    /// Replace them by air (`LoadOptions.airValue`), so the padding never reads as bogus tissue (default).
    case air
    /// Keep the rescaled stored value.
    case keep
}

/// How a series becomes a volume.
public struct LoadOptions: Hashable, Sendable {
    /// What to do with a gantry-tilted stack (default: correct it).
    public var tilt: TiltPolicy
    /// What to do with uneven slice spacing at load time (default: resample). `split` has already acted at scan time,
    /// and resamples whatever unevenness is left.
    public var spacing: SpacingPolicy
    /// What to do with PixelPaddingValue voxels (default: make them air).
    public var padding: PaddingPolicy
    /// The HU written for padding and for space outside the acquired slices when correcting tilt.
    public var airValue: Double
    /// Files decoded at once.
    public var concurrency: Int

    /// The defaults correct tilt, resample uneven spacing, make padding −1024 HU, and decode on every core. Pass
    /// `airValue: 0` for MR and other non-CT series.
    public init(
        tilt: TiltPolicy = .correct, spacing: SpacingPolicy = .resample, padding: PaddingPolicy = .air,
        airValue: Double = -1024, concurrency: Int? = nil
    ) {
        self.tilt = tilt
        self.spacing = spacing
        self.padding = padding
        self.airValue = airValue
        self.concurrency = concurrency ?? ParallelLoop.defaultConcurrency
    }

    /// The sorted stack exactly as stored: no tilt or spacing correction, padding kept. This is what SimpleITK's
    /// `ReadImage` returns and what `hounsfield inspect --stats` hashes.
    public static let asAcquired = LoadOptions(tilt: .keep, spacing: .keep, padding: .keep)
}
