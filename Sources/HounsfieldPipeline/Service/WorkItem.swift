import HounsfieldDICOM

/// One unit of work for a ``PipelineService``: files or folders to discover series in, or DICOM objects held in
/// memory. Every source feeds the service with these: `hounsfield run` one item for its inputs, a distributed worker
/// one item per leased study folder, the daemon one per completed study.
///
/// The identifier comes back on every event the item causes, so a source can tell when its own item is finished
/// (``PipelineEvent/itemFinished(_:)``) without tracking series keys.
public struct WorkItem: Sendable, Identifiable {
    /// What the item reads.
    public enum Source: Sendable {
        /// Files and folders (searched recursively, symbolic links followed) to discover series in.
        case paths([String])
        /// DICOM objects in memory, each with a name that reports and errors use (an upload, an association).
        case buffers([(name: String, bytes: [UInt8])])
    }

    /// Chosen by the source; unique among the items it sends (a lease id, a study folder, a request id).
    public var id: String
    /// What the item reads.
    public var source: Source
    /// Which version of its series the item holds: 1, or more when a series is processed again because instances
    /// arrived after an earlier version was written (the daemon). From 2 on, every key of the item gets the suffix
    /// `-v<version>`, so a later version is written beside the earlier one and never replaces it.
    public var version: Int
    /// What the source knows of the item that the files cannot tell, added to the warnings of every series the
    /// item gives (its report and manifest lines): the daemon's ``SeriesWarning/Kind-swift.enum/incomplete`` when
    /// it stopped waiting for a series' missing instances.
    public var warnings: [SeriesWarning]

    /// An item reading `source`, known to the source as `id`.
    public init(id: String, source: Source, version: Int = 1, warnings: [SeriesWarning] = []) {
        self.id = id
        self.source = source
        self.version = version
        self.warnings = warnings
    }

    /// Whether the item names files on disk (not buffers, whose names are only names).
    var readsFiles: Bool {
        if case .paths = source { true } else { false }
    }

    /// Files and folders, with the paths joined as the identifier.
    public static func paths(_ paths: [String]) -> WorkItem {
        WorkItem(id: paths.joined(separator: "\n"), source: .paths(paths))
    }
}
