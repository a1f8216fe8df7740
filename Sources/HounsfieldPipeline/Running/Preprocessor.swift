import Foundation
import HounsfieldCore
import HounsfieldDICOM

/// One study in, processed tensors out, in memory: the call an inference service makes. It selects with the same
/// ``SeriesSelection`` and runs the same ``SeriesProcessor/process(_:)-(SeriesPlan)`` as the pipeline's stages, so
/// the voxels are byte-identical to what `hounsfield run` writes for the same configuration.
public struct Preprocessor: Sendable {
    /// The per-series work, shared with ``BatchRun`` and ``PipelineService``.
    public let processor: SeriesProcessor

    /// Validates `configuration` and builds its chain once; throws ``ConfigurationError/invalid(path:reason:)`` naming
    /// the key at fault. `output.folder` and `execution` are not used.
    public init(configuration: RunConfiguration) throws(ConfigurationError) {
        processor = try SeriesProcessor(configuration: configuration)
    }

    /// Every selected series under these files or folders, processed.
    public func process(paths: [String]) async throws -> [ProcessedVolume] {
        try await processStudy(paths: paths).volumes
    }

    /// Every selected series in these in-memory DICOM objects (e.g. the body of an upload), processed.
    public func process(buffers: [(name: String, bytes: [UInt8])]) async throws -> [ProcessedVolume] {
        try await processStudy(buffers: buffers).volumes
    }

    /// ``process(paths:)``, keeping what discovery and selection said (what was left out, and why).
    public func processStudy(paths: [String]) async throws -> ProcessedStudy {
        try await process(try await SeriesScanner(options: ScanOptions(spacing: processor.configuration.loading.spacing)).scan(paths),
                          readsNIfTI: true)
    }

    /// ``process(buffers:)``, keeping what discovery and selection said: an upload that gives no volume is answered
    /// with the reasons.
    public func processStudy(buffers: [(name: String, bytes: [UInt8])]) async throws -> ProcessedStudy {
        try await process(await SeriesScanner(options: ScanOptions(spacing: processor.configuration.loading.spacing)).scan(buffers: buffers),
                          readsNIfTI: false)
    }

    private func process(_ scan: ScanResult, readsNIfTI: Bool) async throws -> ProcessedStudy {
        // In key order, as the service processes them.
        let decision = SeriesSelection(processor: processor).select(scan, item: "", readsNIfTI: readsNIfTI, isPublished: { _ in false })
        var volumes: [ProcessedVolume] = []
        for plan in decision.planned {
            try Task.checkCancellation()
            volumes.append(try await processor.process(plan))
        }
        return ProcessedStudy(volumes: volumes, files: scan.fileCount, excluded: decision.excluded, skipped: decision.skipped,
                              noSeriesMessage: decision.volumes == 0 ? scan.noSeriesMessage : nil)
    }
}

/// What one study became in a ``Preprocessor``: its volumes, and what was left out and why.
public struct ProcessedStudy: Sendable {
    /// The processed volumes, in key order.
    public var volumes: [ProcessedVolume]
    /// Objects (files or buffers) read.
    public var files: Int
    /// Objects that form no series, with their reasons.
    public var excluded: [ExcludedFile]
    /// Series found but not processed (filtered), with their reasons.
    public var skipped: [RunReport.SeriesOutcome]
    /// Discovery's sentence when no series formed at all.
    public var noSeriesMessage: String?
}
