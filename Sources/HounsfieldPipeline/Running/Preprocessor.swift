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
        try await process(try await SeriesScanner(options: ScanOptions(spacing: processor.configuration.loading.spacing)).scan(paths))
    }

    /// Every selected series in these in-memory DICOM objects (e.g. the body of an upload), processed.
    public func process(buffers: [(name: String, bytes: [UInt8])]) async throws -> [ProcessedVolume] {
        try await process(await SeriesScanner(options: ScanOptions(spacing: processor.configuration.loading.spacing)).scan(buffers: buffers))
    }

    private func process(_ scan: ScanResult) async throws -> [ProcessedVolume] {
        var volumes: [ProcessedVolume] = []
        // In key order, as the service processes them.
        for plan in SeriesSelection(processor: processor).select(scan.series, item: "", isPublished: { _ in false }).planned {
            volumes.append(try await processor.process(plan))
        }
        return volumes
    }
}
