import Foundation
import Hounsfield
import HounsfieldHDF5
import Testing

@Suite("The pipeline: failure isolation, per-study = batch, bounded channels")
struct BatchRunTests {
    @Test("a batch with a corrupt file, a truncated series and a non-CT series writes every good series and reports the rest")
    func badSeriesDoNotStopTheBatch() async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let inputs = root.appendingPathComponent("in")
        try PipelineTestSupport.series(4, in: inputs)
        // A file that is not DICOM, and a series whose slice is cut short: decoding fails for that series only.
        try Data("not a dicom file".utf8).write(to: inputs.appendingPathComponent("series-0/garbage.dcm"))
        let victim = inputs.appendingPathComponent("series-1")
        let slice = try FileManager.default.contentsOfDirectory(atPath: victim.path).sorted()[5]
        let bytes = try Data(contentsOf: victim.appendingPathComponent(slice))
        try bytes.prefix(bytes.count - 2000).write(to: victim.appendingPathComponent(slice))
        // A non-CT series: the same phantom relabelled as MR.
        try SyntheticSeries(size: 48, slices: 12, spacing: Vector3(0.9, 0.9, 2), seed: 99).write(to: inputs.appendingPathComponent("mr").path)
        for file in try FileManager.default.contentsOfDirectory(atPath: inputs.appendingPathComponent("mr").path) {
            try await PipelineTestSupport.shell("/usr/bin/dcmodify", ["-nb", "-m", "(0008,0060)=MR", inputs.appendingPathComponent("mr/\(file)").path])
        }
        let output = root.appendingPathComponent("out")
        let run = try BatchRun(configuration: PipelineTestSupport.configuration(inputs: [inputs], output: output))
        let report = try await run.run()
        #expect(report.counts["written"] == 3)
        #expect(report.counts["failed"] == 1)
        #expect(report.counts["filtered"] == 1)
        #expect((report.counts["excluded_files"] ?? 0) >= 1)
        let failed = try #require(report.series.first { $0.status == .failed })
        #expect(failed.stage == "decode")
        #expect(failed.file?.hasSuffix(slice) == true, "\(failed.file ?? "nil")")
        #expect(report.series.first { $0.status == .filtered }?.reason?.contains("MR") == true)
        #expect(OutputFolder(output).manifestEntries().entries.count == 3)
        #expect(ManifestVerification(folder: output).run().isClean)
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("report.json").path))
    }

    @Test("the per-study API returns exactly the bytes the batch run writes")
    func perStudyEqualsBatch() async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let inputs = root.appendingPathComponent("in")
        try PipelineTestSupport.series(2, in: inputs)
        let output = root.appendingPathComponent("out")
        let configuration = PipelineTestSupport.configuration(inputs: [inputs], output: output)
        _ = try await BatchRun(configuration: configuration).run()
        let entries = OutputFolder(output).manifestEntries().entries

        let service = try Preprocessor(configuration: configuration)
        let fromFiles = try await service.process(paths: [inputs.path])
        // Buffers, as an upload would deliver them.
        let series0 = inputs.appendingPathComponent("series-0")
        let buffers = try FileManager.default.contentsOfDirectory(atPath: series0.path).map { name in
            (name: name, bytes: [UInt8](try Data(contentsOf: series0.appendingPathComponent(name))))
        }
        let fromBuffers = try await service.process(buffers: buffers)
        #expect(fromFiles.count == 2 && fromBuffers.count == 1)
        for volume in fromFiles + fromBuffers {
            let entry = try #require(entries.first { $0.key == volume.key })
            guard case .float32(let image) = volume.image else { Issue.record("expected float32"); continue }
            let stored = try ShardReader(url: output.appendingPathComponent(entry.shard)).readImage(volume.key, as: Float32.self)
            #expect(stored.voxels == image.voxels)
            #expect(stored.geometry == image.geometry)
        }
    }

    @Test("the channel bounds bytes: a slow consumer holds the producer back")
    func channelBoundsBytes() async throws {
        let channel = BoundedChannel<Int>(capacity: 100, byteLimit: 10)
        let produced = SharedFlag()
        let producer = Task {
            for i in 0..<5 { await channel.send(i, bytes: 4) }
            produced.set()
            channel.finish()
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(channel.queuedBytes <= 10)
        #expect(!produced.isSet)
        var received: [Int] = []
        while let value = await channel.receive() { received.append(value) }
        await producer.value
        #expect(received == [0, 1, 2, 3, 4])
    }
}

final class SharedFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

import Synchronization

/// A series whose chain starts with a linear resampling is decoded slice by slice inside the transform stage
/// (`SeriesProcessor.transformPlanes`), never whole. That must change nothing in what is written.
@Suite("Streamed decoding")
struct StreamedDecodingTests {
    static let chains = ["window, 1.5 mm linear, minmax", "1 mm linear alone, int16", "window, 0.8 × 0.8 × 3 mm, zscore"]

    static func configure(_ chain: String, _ configuration: inout RunConfiguration) {
        switch chain {
        case chains[1]:
            configuration.preprocessing.window = nil
            configuration.preprocessing.spacing = [1]
            configuration.preprocessing.normalize = "none"
            configuration.output.dtype = .int16
        case chains[2]:
            configuration.preprocessing.spacing = [0.8, 0.8, 3]
            configuration.preprocessing.normalize = "zscore"
        default:
            break
        }
    }

    @Test("the bytes of decoding first, for each encoding and chain",
          arguments: [SyntheticTransferSyntax.explicit, .jpegLossless, .rle], chains)
    func sameAsDecodingFirst(_ syntax: SyntheticTransferSyntax, _ chain: String) async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try SyntheticSeries(size: 40, slices: 9, spacing: Vector3(0.9, 0.9, 2), syntax: syntax, seed: 7).write(to: root.path)
        var configuration = PipelineTestSupport.configuration(inputs: [root], output: nil)
        Self.configure(chain, &configuration)
        let processor = try SeriesProcessor(configuration: configuration)
        let series = try #require(try await SeriesScanner().scan([root.path]).series.first)
        #expect(try processor.streams(series))
        let streamed = try #require(try await processor.transformPlanes(of: series))
        let whole = try await processor.transform(try await processor.decode(series), of: series)
        #expect(streamed.image == whole.image)
        #expect(streamed.metadata == whole.metadata)
        #expect(streamed.key == whole.key)
    }

    @Test("chains that need the volume whole, and tilted series, are decoded first as before")
    func wholeWhereNeeded() async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try SyntheticSeries(size: 40, slices: 9, spacing: Vector3(0.9, 0.9, 2), seed: 3)
            .write(to: root.appendingPathComponent("straight").path)
        try SyntheticSeries(size: 40, slices: 9, spacing: Vector3(0.9, 0.9, 2), tiltDegrees: 12, seed: 4)
            .write(to: root.appendingPathComponent("tilted").path)
        let scan = try await SeriesScanner().scan([root.path])
        #expect(scan.series.count == 2)
        var bspline = PipelineTestSupport.configuration(inputs: [root], output: nil)
        bspline.preprocessing.interpolation = .bspline
        let linear = try SeriesProcessor(configuration: PipelineTestSupport.configuration(inputs: [root], output: nil))
        for series in scan.series {
            #expect(try SeriesProcessor(configuration: bspline).streams(series) == false)
            #expect(try await SeriesProcessor(configuration: bspline).transformPlanes(of: series) == nil)
            let tilted = series.layout.isTilted
            #expect(try linear.streams(series) == !tilted)
            // `process` takes whichever path applies; the result is that of decoding first either way.
            let processed = try await linear.process(series)
            let whole = try await linear.transform(try await linear.decode(series), of: series)
            #expect(processed.image == whole.image)
        }
    }

    @Test("a slice that disappears after the scan fails the streamed series with that file's name")
    func vanishedSliceNamesTheFile() async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try SyntheticSeries(size: 40, slices: 9, spacing: Vector3(0.9, 0.9, 2), seed: 5).write(to: root.path)
        let processor = try SeriesProcessor(configuration: PipelineTestSupport.configuration(inputs: [root], output: nil))
        let series = try #require(try await SeriesScanner().scan([root.path]).series.first)
        #expect(try processor.streams(series))
        let victim = try FileManager.default.contentsOfDirectory(atPath: root.path).sorted()[4]
        try FileManager.default.removeItem(at: root.appendingPathComponent(victim))
        do {
            _ = try await processor.transformPlanes(of: series)
            Issue.record("a missing slice must fail the series")
        } catch let error as DICOMError {
            #expect(error.file?.hasSuffix(victim) == true, "\(error)")
        }
    }
}
