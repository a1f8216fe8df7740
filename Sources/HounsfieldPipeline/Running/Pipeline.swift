import Foundation
import HounsfieldCore
import HounsfieldDICOM
import HounsfieldHDF5
import Logging
import Synchronization

/// The stages of a batch run: decode (`decode_jobs` tasks) → channel → transform (`transform_jobs` tasks) → channel
/// → write (one task: HDF5 serialises anyway). Channels are bounded by count and by bytes, so a slow writer slows decoding
/// instead of filling memory. CPU-heavy work runs on Dispatch threads; the tasks only wait for it.
struct Pipeline: Sendable {
    let run: BatchRun
    let series: [SeriesDescriptor]
    let writer: WriterBox

    /// The result of one series.
    struct Result: Sendable {
        var key: String
        var status: RunReport.SeriesOutcome.Status
        var stage: String?
        var file: String?
        var error: String?
        var shape: [Int]?
        var seconds: [String: Double] = [:]
        var attempts = 1
        var bytes = 0
    }

    struct Decoded: Sendable {
        var series: SeriesDescriptor
        /// Taken (set to nil) when handed to the transform stage, so the chain may work in place. Nil from the
        /// start when the series is decoded by the transform stage as its chain reads it (`streams`).
        var volume: Volume<Float32>?
        var result: Result
        /// Decoding is left to the transform stage (`SeriesProcessor.transformPlanes`).
        var streams = false
    }

    struct Transformed: Sendable {
        var volume: ProcessedVolume
        var result: Result
    }

    func run() async -> [Result] {
        let configuration = run.configuration
        let decodeJobs = configuration.execution.decodeJobs ?? configuration.execution.jobs
        let transformJobs = configuration.execution.transformJobs ?? configuration.execution.jobs
        let limit = (configuration.execution.memoryLimit.flatMap { try? ByteSize.parse($0) })
            ?? Int(ProcessInfo.processInfo.physicalMemory / 4)
        // Each channel may hold a quarter of the budget; the rest is the volumes inside the stages.
        let decoded = BoundedChannel<Decoded>(capacity: transformJobs + 1, byteLimit: max(1, limit / 4))
        let transformed = BoundedChannel<Transformed>(capacity: transformJobs + 1, byteLimit: max(1, limit / 4))
        let results = Collector()
        let next = SharedCount(0)
        let metrics = PipelineMetrics()
        let processor = run.processor
        let started = ContinuousClock.now
        let total = series.count
        let series = self.series
        // Raised by the writer when the output fails (a full disk): every stage stops taking work.
        let outputFailed = writer.writer.failureFlag

        await withTaskGroup(of: Void.self) { group in
            // Decode stage.
            let decoders = SharedCount(decodeJobs)
            for _ in 0..<decodeJobs {
                group.addTask {
                    while !Task.isCancelled && !outputFailed.isRaised {
                        let index = next.increment() - 1
                        guard index < series.count else { break }
                        let item = series[index]
                        var result = Result(key: processor.key(for: item), status: .written)
                        let start = ContinuousClock.now
                        // A chain that reads planes decodes the series itself, slice by slice, in the transform
                        // stage: nothing to do here (a series that cannot be read so is decoded below).
                        if (try? processor.streams(item)) == true {
                            await decoded.send(Decoded(series: item, volume: nil, result: result, streams: true), bytes: 0)
                            continue
                        }
                        do {
                            let volume = try await retryingUnreadableFiles(&result, metrics: metrics) {
                                try await processor.decode(item)
                            }
                            result.seconds["decode"] = (ContinuousClock.now - start).inSeconds
                            metrics.stage("decode").recordNanoseconds((ContinuousClock.now - start).nanoseconds)
                            await decoded.send(Decoded(series: item, volume: volume, result: result),
                                               bytes: volume.voxels.count * 4)
                        } catch {
                            results.fail(result, error: error, stage: "decode", metrics: metrics)
                            report(results, total: total, started: started)
                        }
                    }
                    if decoders.decrement() == 0 { decoded.finish() }
                }
            }
            // Transform stage.
            let transformers = SharedCount(transformJobs)
            for _ in 0..<transformJobs {
                group.addTask {
                    while var item = await decoded.receive() {
                        var result = item.result
                        if Task.isCancelled { continue }
                        if let failure = outputFailed.failure {
                            results.fail(result, stage: "write", file: failure.path, error: "not written: \(failure)", metrics: metrics)
                            continue
                        }
                        let start = ContinuousClock.now
                        do {
                            let volume: ProcessedVolume
                            if item.streams {
                                // `process` decodes slice by slice, or whole when the chain declines planes after all.
                                volume = try await retryingUnreadableFiles(&result, metrics: metrics) {
                                    try await processor.process(item.series)
                                }
                                result.seconds["decode_and_transform"] = (ContinuousClock.now - start).inSeconds
                            } else {
                                volume = try await processor.transform(item.volume.take()!, of: item.series)
                                result.seconds["transform"] = (ContinuousClock.now - start).inSeconds
                            }
                            metrics.stage("transform").recordNanoseconds((ContinuousClock.now - start).nanoseconds)
                            await transformed.send(Transformed(volume: volume, result: result), bytes: volume.image.byteCount)
                        } catch {
                            results.fail(result, error: error, stage: "transform", metrics: metrics)
                            report(results, total: total, started: started)
                        }
                    }
                    if transformers.decrement() == 0 { transformed.finish() }
                }
            }
            // Write stage: one writer, one volume at a time, on a Dispatch thread.
            let writer = self.writer
            group.addTask {
                while let item = await transformed.receive() {
                    var result = item.result
                    let volume = item.volume
                    let start = ContinuousClock.now
                    if let failure = outputFailed.failure {
                        results.fail(result, stage: "write", file: failure.path, error: "not written: \(failure)", metrics: metrics)
                        report(results, total: total, started: started)
                        continue
                    }
                    do {
                        try await ParallelLoop.offload { () throws(ShardError) in
                            try volume.image.write(to: writer.writer, key: volume.key, metadata: volume.metadata)
                        }
                        result.seconds["write"] = (ContinuousClock.now - start).inSeconds
                        result.shape = [volume.size.z, volume.size.y, volume.size.x]
                        result.bytes = volume.image.byteCount
                        metrics.stage("write").recordNanoseconds((ContinuousClock.now - start).nanoseconds)
                        metrics.written.increment()
                        metrics.voxels.increment(by: volume.size.voxelCount)
                        metrics.bytes.increment(by: volume.image.byteCount)
                        results.add(result)
                    } catch {
                        results.fail(result, stage: "write", file: nil, error: "\(error)", metrics: metrics)
                    }
                    report(results, total: total, started: started)
                }
            }
        }
        var all = results.all
        // Series never reached because the run was cancelled, or because the output failed.
        let finished = Set(all.map(\.key))
        for item in series where !finished.contains(processor.key(for: item)) {
            all.append(Result(key: processor.key(for: item), status: outputFailed.isRaised ? .notProcessed : .cancelled,
                              attempts: 0))
        }
        return all
    }

    /// Runs `work` again, after a growing pause, when it fails on an unreadable file (a network file system
    /// hiccup, say), up to `execution.retries` more times; `result.attempts` counts the tries.
    private func retryingUnreadableFiles<Value>(
        _ result: inout Result, metrics: PipelineMetrics, _ work: () async throws -> Value
    ) async throws -> Value {
        var attempt = 0
        while true {
            attempt += 1
            result.attempts = attempt
            do {
                return try await work()
            } catch let error as DICOMError {
                guard case .unreadable = error, attempt <= run.configuration.execution.retries, !Task.isCancelled
                else { throw error }
                metrics.retries.increment()
                run.logger.warning("retrying a series after an I/O error", metadata: ["key": "\(result.key)", "error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
    }

    private func report(_ results: Collector, total: Int, started: ContinuousClock.Instant) {
        guard let progress = run.progress else { return }
        let snapshot = results.snapshot
        progress(RunProgress(done: snapshot.done, total: total, failed: snapshot.failed, bytesWritten: snapshot.bytes,
                             voxelsWritten: snapshot.voxels, elapsed: (ContinuousClock.now - started).inSeconds))
    }

    /// Results from all stages, thread-safe.
    final class Collector: Sendable {
        private let state = Mutex<(results: [Result], failed: Int, bytes: Int, voxels: Int)>(([], 0, 0, 0))

        func add(_ result: Result) {
            state.withLock {
                $0.results.append(result)
                $0.bytes += result.bytes
                $0.voxels += (result.shape ?? [0]).reduce(1, *)
            }
        }

        func fail(_ result: Result, stage: String, file: String?, error: String, metrics: PipelineMetrics) {
            var failed = result
            failed.status = .failed
            failed.stage = stage
            failed.file = file
            failed.error = error
            metrics.failed.increment()
            metrics.failure(stage: stage).increment()
            state.withLock {
                $0.results.append(failed)
                $0.failed += 1
            }
        }

        /// Records `error` as the failure of `result`: a DICOM error is decoding's (whichever stage met it, since
        /// a streamed series decodes in the transform stage) and names its file; any other error is `stage`'s.
        func fail(_ result: Result, error: any Error, stage: String, metrics: PipelineMetrics) {
            if let error = error as? DICOMError {
                fail(result, stage: "decode", file: error.file, error: error.description, metrics: metrics)
            } else {
                fail(result, stage: stage, file: nil, error: "\(error)", metrics: metrics)
            }
        }

        var all: [Result] { state.withLock { $0.results } }
        var snapshot: (done: Int, failed: Int, bytes: Int, voxels: Int) {
            state.withLock { ($0.results.count, $0.failed, $0.bytes, $0.voxels) }
        }
    }
}

/// An integer shared by the stage tasks: the next work index, the number of tasks still running in a stage.
final class SharedCount: Sendable {
    private let value: Atomic<Int>
    init(_ initial: Int) { value = Atomic(initial) }
    /// Adds one and returns the new value.
    func increment() -> Int { value.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue }
    /// Subtracts one and returns the new value.
    func decrement() -> Int { value.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
