import HounsfieldDICOM

/// What an ``Inspection`` reads: headers only (fast), or the voxels too.
///
/// Statistics are taken on the stack as acquired (``LoadOptions/asAcquired``: sorted, no tilt or spacing
/// correction, padding kept), so they compare with what SimpleITK reads from the same files; the corrected grid is
/// reported beside them from headers.
public struct InspectionOptions: Hashable, Sendable {
    /// How discovery groups files into series (`spacing: .split` makes one series per evenly spaced run).
    public var scan: ScanOptions
    /// Whether to decode every series and add ``HUStatistics``; this reads all pixel data, one series at a time.
    public var statistics: Bool

    /// Headers only with the default scan, unless `statistics`.
    public init(scan: ScanOptions = ScanOptions(), statistics: Bool = false) {
        self.scan = scan
        self.statistics = statistics
    }
}
