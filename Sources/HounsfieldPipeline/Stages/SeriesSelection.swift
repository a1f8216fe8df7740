import HounsfieldDICOM
import HounsfieldNIfTI

/// Decides what becomes of each discovered series before any pixel is read: filtered (the configuration's
/// filters), another process's (a static split), already published (resume), or planned for processing. The batch
/// run, the per-study API and every service source select with this one type, so they agree on what is processed.
public struct SeriesSelection: Sendable {
    /// The per-series work, whose filters and keys decide.
    public let processor: SeriesProcessor
    /// This process's share of a static split.
    public let split: StaticSplit

    /// A selection with `processor`'s filters and keys, keeping the series of `split`.
    public init(processor: SeriesProcessor, split: StaticSplit = .whole) {
        self.processor = processor
        self.split = split
    }

    /// What was decided for the series of one scan.
    public struct Decision: Sendable {
        /// The series to process, in key order (so a run's order, and with one job its shards, are reproducible).
        public var planned: [SeriesPlan]
        /// Series not processed, with their status (`filtered`, `other_shard`, `resumed`) and reason.
        public var skipped: [RunReport.SeriesOutcome]
        /// The scan's files that give no volume, with the reason: ``ScanResult/excluded`` less the NIfTI images and
        /// label maps that were used, NIfTI files left out with their own reason (``select(_:item:version:isPublished:)``).
        public var excluded: [ExcludedFile] = []
        /// How many volumes the scan offered: its DICOM series and its NIfTI images.
        public var volumes = 0
    }

    /// Selects among everything a scan found: its DICOM series with their label objects, and its NIfTI images with
    /// their label maps (``NIfTIDiscovery``, decision 61). Plans of both kinds come in one key order. `readsNIfTI`
    /// is false for a scan of buffers (an upload): their names are not paths to read.
    public func select(
        _ scan: ScanResult, item: String, version: Int = 1, readsNIfTI: Bool = true, isPublished: (String) -> Bool
    ) -> Decision {
        select(scan, nifti: readsNIfTI ? NIfTIDiscovery(scan: scan) : NIfTIDiscovery(), item: item, version: version,
               isPublished: isPublished)
    }

    /// ``select(_:item:version:readsNIfTI:isPublished:)`` with the scan's NIfTI files already sorted (`nifti`), so
    /// that a caller can read them before it takes a lock for `isPublished`.
    func select(
        _ scan: ScanResult, nifti: NIfTIDiscovery, item: String, version: Int = 1, isPublished: (String) -> Bool
    ) -> Decision {
        var decision = select(scan.series, labels: scan.labelObjects as [any LabelSource] + nifti.labelMaps, item: item,
                              version: version, isPublished: isPublished)
        for image in nifti.images {
            let key = processor.key(forIdentity: image.input.identity) + Self.keySuffix(version)
            let report = RunReport.SeriesOutcome(
                key: key, description: image.input.description, modality: image.input.modality, status: .planned,
                slices: image.input.size.z, seconds: [:], warnings: [], attempts: 0)
            decide(report, identity: image.input.identity, rejection: processor.rejection(of: image.input),
                   isPublished: isPublished, into: &decision) { report in
                // A NIfTI image streams whenever the chain reads planes: its planes are converted as they are read.
                var planned = SeriesPlan(image: .nifti(image.input), key: key, item: item,
                                         streams: processor.transform.readsPlanes, report: report)
                planned.labels = processor.configuration.labels.pair ? image.labels : []
                return planned
            }
        }
        decision.planned.sort { $0.key < $1.key }
        decision.excluded = scan.excluded.filter { !nifti.handled.contains($0.file) } + nifti.excluded
        decision.volumes = scan.series.count + nifti.images.count
        return decision
    }

    /// Selects among discovered series (of `item`; `labels` are the label objects found with them, each given to the
    /// series it labels, holding `version` of its series: see ``WorkItem/version``).
    /// `isPublished` says whether a key is already in the output (resume); pass `{ _ in false }` when nothing is
    /// written.
    public func select(
        _ series: [SeriesDescriptor], labels: [any LabelSource] = [], item: String, version: Int = 1,
        isPublished: (String) -> Bool
    ) -> Decision {
        var decision = Decision(planned: [], skipped: [])
        let keyed = series.map { (key: processor.key(for: $0) + Self.keySuffix(version), series: $0) }.sorted { $0.key < $1.key }
        for (key, series) in keyed {
            decide(Self.outcome(series, key: key), identity: series.key, rejection: processor.rejection(of: series),
                   isPublished: isPublished, into: &decision) { report in
                var planned = plan(series, key: key, item: item, report: report)
                planned.labels = processor.configuration.labels.pair ? labels.filter { $0.labels(series) } : []
                return planned
            }
        }
        return decision
    }

    /// The plan of one series, whatever the filters say: its key, and whether it streams — decided here, once.
    public func plan(_ series: SeriesDescriptor, item: String = "") -> SeriesPlan {
        let key = processor.key(for: series)
        return plan(series, key: key, item: item, report: Self.outcome(series, key: key))
    }

    /// Files one volume (a series or a NIfTI image) under what is decided for it, in this order: filtered (with
    /// `rejection`), another process's share, already published, or planned (`plan` makes its plan).
    private func decide(
        _ report: RunReport.SeriesOutcome, identity: String, rejection: String?, isPublished: (String) -> Bool,
        into decision: inout Decision, plan: (RunReport.SeriesOutcome) -> SeriesPlan
    ) {
        var report = report
        if let rejection {
            report.status = .filtered
            report.reason = rejection
        } else if !split.contains(identityHash: processor.hash(identity)) {
            report.status = .otherShard
        } else if isPublished(report.key) {
            report.status = .resumed
        } else {
            decision.planned.append(plan(report))
            return
        }
        decision.skipped.append(report)
    }

    /// The report line of a series before anything is done with it.
    private static func outcome(_ series: SeriesDescriptor, key: String) -> RunReport.SeriesOutcome {
        RunReport.SeriesOutcome(
            key: key, description: series.seriesDescription, modality: series.modality, status: .planned,
            slices: series.slices.count, seconds: [:], warnings: series.warnings.map(\.message), attempts: 0)
    }

    /// What a key of `version` ends with: nothing for version 1, `-vN` after (``WorkItem/version``).
    private static func keySuffix(_ version: Int) -> String { version > 1 ? "-v\(version)" : "" }

    private func plan(_ series: SeriesDescriptor, key: String, item: String, report: RunReport.SeriesOutcome) -> SeriesPlan {
        // A series that cannot stream (or whose reject policy throws) is decoded whole, where the decode stage
        // reports the error with its file.
        let streams = (try? processor.streams(series)) ?? false
        return SeriesPlan(image: .series(series), key: key, item: item, streams: streams, report: report)
    }
}
