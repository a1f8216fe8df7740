import Foundation
import HounsfieldCore
import HounsfieldDICOM
import HounsfieldHDF5
import Logging
import Synchronization

/// The entry stage: reads one work item at a time from the source, discovers its series (headers only), selects
/// them (filters, static split, what the output already holds) and sends the selected ones on, in key order. It
/// asks the source for the next item only once the previous item's series are all in the decode channel, so a
/// fast source waits instead of queueing.
final class DiscoverStage: Sendable {
    let selection: SeriesSelection
    let collector: OutcomeCollector
    let logger: Logger
    /// Keys the output folder held when the service started.
    let alreadyPublished: Set<String>
    /// Keys planned during this service's life: a series that comes again (the same folder twice, a repeated study)
    /// is not processed twice.
    private let planned = Mutex<Set<String>>([])

    init(selection: SeriesSelection, collector: OutcomeCollector, logger: Logger, alreadyPublished: Set<String>) {
        self.selection = selection
        self.collector = collector
        self.logger = logger
        self.alreadyPublished = alreadyPublished
    }

    func run<Items: AsyncSequence & Sendable>(
        _ items: Items, to output: BoundedChannel<SeriesPlan>, draining: CancellationFlag, outputFailed: OutputFailureFlag
    ) async where Items.Element == WorkItem {
        // A failed output takes nothing more: the source keeps its items for a later start. A source that never
        // ends (a daemon's) is not waited for once the output failed: a watcher cancels the wait.
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await item in items {
                        if draining.isSet || Task.isCancelled || outputFailed.isRaised { break }
                        await self.process(item, to: output, draining: draining)
                    }
                } catch {
                    self.logger.error("the work source failed; no more items are taken", metadata: ["error": "\(error)"])
                }
            }
            group.addTask {
                while !outputFailed.isRaised && !Task.isCancelled { try? await Task.sleep(for: .milliseconds(200)) }
            }
            await group.next()
            group.cancelAll()
        }
    }

    private func process(_ item: WorkItem, to output: BoundedChannel<SeriesPlan>, draining: CancellationFlag) async {
        // The plans in the order they are sent, last first, so that each leaves this stage as it is sent: a run of
        // thousands of series keeps no descriptor (every image's header) of a series that is done (decision 43).
        var pending = await discover(item).reversed() as [SeriesPlan]
        // The scan's headers and candidates are freed (only the planned series' descriptors stay): hand their pages
        // back to the system (decision 43); at most every few seconds, for sources of many small items (decision 69).
        await ParallelLoop.offload { MallocTuning.releaseFreePages(atMostEvery: MallocTuning.perItemInterval) }
        while let plan = pending.popLast() {
            if draining.isSet || Task.isCancelled {
                await collector.notStarted(plan)
            } else if await !output.send(plan, bytes: 0) {
                await collector.notStarted(plan)
            }
        }
    }

    /// Scans the item, selects its series, reports the discovery, and returns the plans (nothing else of the scan
    /// outlives this call).
    private func discover(_ item: WorkItem) async -> [SeriesPlan] {
        let start = ContinuousClock.now
        let scanner = SeriesScanner(options: ScanOptions(spacing: selection.processor.configuration.loading.spacing), logger: logger)
        var scan: ScanResult?
        var failure: String?
        switch item.source {
        case .paths(let paths):
            do { scan = try await scanner.scan(paths) } catch { failure = error.description }
        case .buffers(let buffers):
            scan = await scanner.scan(buffers: buffers)
        }
        if var found = scan, !item.warnings.isEmpty {
            for index in found.series.indices { found.series[index].warnings += item.warnings }
            scan = found
        }
        // The NIfTI files are read (headers, first voxels) here, off the cooperative pool and before the lock below.
        let found = scan
        let nifti = if let found, item.readsFiles {
            await ParallelLoop.offload { NIfTIDiscovery(scan: found) }
        } else {
            NIfTIDiscovery()
        }
        let alreadyPublished = self.alreadyPublished
        let decision = planned.withLock { seen in
            let decision = scan.map { scan in
                selection.select(scan, nifti: nifti, item: item.id, version: item.version) {
                    alreadyPublished.contains($0) || seen.contains($0)
                }
            } ?? SeriesSelection.Decision(planned: [], skipped: [])
            seen.formUnion(decision.planned.map(\.key))
            return decision
        }
        let discovery = PipelineEvent.Discovery(
            item: item.id, files: scan?.fileCount ?? 0, series: decision.volumes, planned: decision.planned.count,
            resumed: decision.skipped.filter { $0.status == .resumed }.count,
            excluded: decision.excluded.map { RunReport.Excluded(file: $0.file, reason: $0.reason) }, error: failure,
            seconds: (ContinuousClock.now - start).inSeconds, notes: scan?.notes ?? [],
            noSeriesMessage: decision.volumes == 0 ? scan?.noSeriesMessage : nil)
        for note in discovery.notes { logger.notice("\(note)", metadata: ["item": "\(item.id)"]) }
        await collector.discovered(discovery, skipped: decision.skipped, planned: decision.planned)
        // Waiting plans keep only what decoding needs: a big item's thousands of series wait here for their turn. A
        // labelled series keeps its instance UIDs, by which its SEG frames are placed.
        return decision.planned.map { plan in
            guard plan.labels.isEmpty, let series = plan.series else { return plan }
            var trimmed = plan
            trimmed.image = .series(series.trimmedForDecoding())
            return trimmed
        }
    }
}
