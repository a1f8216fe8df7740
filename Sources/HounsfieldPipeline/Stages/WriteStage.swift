import HounsfieldCore
import HounsfieldHDF5
import Logging

/// The last stage: one task that writes each volume into the open shard (HDF5 serialises every call anyway; the
/// chunks are compressed on every core inside), reports it, and reports each shard as it is published — at a
/// rotation, and when the input ends.
struct WriteStage: Sendable {
    let writer: WriterBox
    let collector: OutcomeCollector
    let metrics: PipelineMetrics
    let logger: Logger
    /// When the last volume was written (or the last shard published), for ``IdlePublisher``.
    let activity: WriterActivity
    /// Where written volumes go for their QC preview, when previews are on.
    let previews: BoundedChannel<ProcessedVolume>?
    /// Where written volumes go for their NIfTI copies, when those are on.
    let niftiCopies: BoundedChannel<ProcessedVolume>?

    /// Writes until the input ends, then publishes the open shard. Returns why the last shard could not be
    /// published, if it could not.
    ///
    /// A shard published at an item's end (a worker's study, a daemon's series) is closed here and made durable in
    /// the background while the next volume is written; at most one such publication is in flight, and each is
    /// reported published only once it is durable (decision 69).
    func run(from input: BoundedChannel<WriteRequest>) async -> String? {
        let writer = self.writer
        var publishing: Task<Void, Never>?
        while let request = await input.receive() {
            guard case .volume(let item) = request else {
                let requested = activity.takePublicationRequest()
                if activity.isIdle || requested, writer.writer.hasOpenShard {
                    await publishing?.value
                    publishing = nil
                    await publishOpenShard()
                }
                if activity.shouldReleaseMemory { await releaseMemory() }
                continue
            }
            defer { activity.touch() }
            var report = item.report
            let volume = item.volume
            if Task.isCancelled {
                await collector.failed(item.plan, report: report, StageFailure(CancellationError(), stage: "write"))
                continue
            }
            if let failure = writer.writer.failure {
                await collector.failed(item.plan, report: report, StageFailure(outputFailure: failure))
                continue
            }
            let start = ContinuousClock.now
            do {
                let entry = try await ParallelLoop.offload { () throws(ShardError) -> ManifestEntry in
                    try volume.image.write(
                        to: writer.writer, key: volume.key, metadata: volume.metadata, labels: volume.labels,
                        labelSources: volume.labelSources, labelWarnings: volume.labelWarnings)
                }
                report.seconds["write"] = (ContinuousClock.now - start).inSeconds
                report.shape = [volume.size.z, volume.size.y, volume.size.x]
                report.labels = entry.labels ?? (volume.labelWarnings.isEmpty ? nil : LabelSummary(
                    layout: .classIndex, classes: [:], voxels: [:], overlappingVoxels: 0, warnings: volume.labelWarnings))
                metrics.stage("write").recordNanoseconds((ContinuousClock.now - start).nanoseconds)
                // A rotation before this volume published the previous shard.
                await announce(writer.newPublications())
                await collector.written(item.plan, report: report, shard: entry.shard, checksum: entry.checksum,
                                        bytes: volume.image.byteCount)
                await previews?.send(volume, bytes: volume.image.byteCount)
                await niftiCopies?.send(volume, bytes: volume.image.byteCount)
                // This volume finished its item, and the service publishes at every item's end (a worker).
                if activity.takePublicationRequest(), writer.writer.hasOpenShard {
                    await publishing?.value
                    publishing = await publishInBackground()
                }
            } catch {
                await announce(writer.newPublications())
                await collector.failed(item.plan, report: report, StageFailure(error, stage: "write"))
            }
        }
        await publishing?.value
        var failure: String?
        do { try writer.writer.finish() } catch {
            // An output failure was logged by the writer when it happened.
            if writer.writer.failure == nil { logger.error("could not publish the last shard", metadata: ["error": "\(error)"]) }
            failure = "\(error)"
        }
        await announce(writer.newPublications())
        return failure
    }

    private func publishOpenShard() async {
        let writer = self.writer
        do {
            try await ParallelLoop.offload { () throws(ShardError) in try writer.writer.publishOpenShard() }
        } catch {
            logger.error("could not publish the open shard", metadata: ["error": "\(error)"])
        }
        activity.touch()
        await announce(writer.newPublications())
    }

    /// Closes the open shard and completes its publication on a task of its own, which reports it once durable.
    /// Returns that task (nil when the shard could not even be closed: the output failed, and the writer said so).
    private func publishInBackground() async -> Task<Void, Never>? {
        let writer = self.writer
        let pending: PendingPublication?
        do {
            pending = try await ParallelLoop.offload { () throws(ShardError) in try writer.writer.closeOpenShard() }
        } catch {
            logger.error("could not publish the open shard", metadata: ["error": "\(error)"])
            return nil
        }
        activity.touch()
        guard let pending else { return nil }
        let collector = self.collector, logger = self.logger
        return Task {
            do {
                try await ParallelLoop.offload { () throws(ShardError) in try pending.complete() }
                await collector.published(.init(shard: pending.shard, keys: pending.entries.map(\.key)))
            } catch {
                logger.error("could not publish the shard", metadata: ["shard": "\(pending.shard)", "error": "\(error)"])
            }
        }
    }

    /// The input has been quiet for a while: the chunk buffers kept for the next volume, and the pages malloc holds
    /// free, go back to the system (decisions 43 and 69). Not at every publication: a worker publishes at every
    /// study, and the next one would fault them all in again.
    private func releaseMemory() async {
        let writer = self.writer
        await ParallelLoop.offload {
            writer.writer.releaseBuffers()
            MallocTuning.releaseFreePages()
        }
        activity.memoryReleased()
    }

    private func announce(_ publications: [PipelineEvent.ShardPublication]) async {
        for publication in publications { await collector.published(publication) }
    }
}

/// The shard writer, handed to the write stage's Dispatch work.
///
/// `@unchecked Sendable` is safe because exactly one task (``WriteStage/run(from:)``) uses it, one call at a time:
/// each write is an awaited `ParallelLoop.offload`, so no two threads ever touch the writer at once, and the
/// service reads `published` only after that task has ended. A publication completed in the background goes
/// through the ``PendingPublication`` the writer handed out, never through the writer.
final class WriterBox: @unchecked Sendable {
    let writer: ShardWriter
    init(_ writer: ShardWriter) { self.writer = writer }

    /// The shards the writer published by its own calls since the last call, in order.
    func newPublications() -> [PipelineEvent.ShardPublication] {
        var result: [PipelineEvent.ShardPublication] = []
        for entry in writer.takeNewlyPublished() {
            if result.last?.shard == entry.shard { result[result.count - 1].keys.append(entry.key) } else {
                result.append(.init(shard: entry.shard, keys: [entry.key]))
            }
        }
        return result
    }
}
