import Foundation
import Hounsfield
import HounsfieldCore
import HounsfieldTestSupport
import Testing

/// Labels through the pipeline: decoded onto the series, moved with the image through the chain's spatial steps,
/// combined into one map or kept as channels when classes overlap, and stored beside the image with their summary.
@Suite("Labels through the pipeline")
struct LabelPipelineTests {
    /// Spheres in patient space, sampled on the series' own grid as a label decoder would place them.
    struct Spheres: LabelSource {
        var spheres: [(value: Int, name: String, centre: Vector3, radius: Double)]
        var file: String { "/labels/spheres.dcm" }
        func labels(_ series: SeriesDescriptor) -> Bool { true }
        func segments(on series: SeriesDescriptor) throws -> DecodedLabels {
            DecodedLabels(segments: spheres.map { sphere in
                let mask = Volume<UInt8>(size: series.size, geometry: series.geometry) { voxels in
                    for z in 0..<series.size.z { for y in 0..<series.size.y { for x in 0..<series.size.x {
                        let point = series.geometry.point(atIndex: Vector3(Double(x), Double(y), Double(z)))
                        let inside = (point - sphere.centre).length <= sphere.radius
                        voxels[x + series.size.x * (y + series.size.y * z)] = inside ? 1 : 0
                    } } }
                }
                return LabelSegment(labelClass: LabelClass(value: sphere.value, name: sphere.name), mask: mask)
            }, warnings: ["one contour lies on no slice"])
        }
    }

    struct Unreadable: LabelSource {
        var file: String { "/labels/broken-seg.dcm" }
        func labels(_ series: SeriesDescriptor) -> Bool { true }
        func segments(on series: SeriesDescriptor) throws -> DecodedLabels {
            throw DICOMError.unsupported(file: file, reason: "frames do not land on the series' slices")
        }
    }

    private func series(in folder: URL) async throws -> SeriesDescriptor {
        try SyntheticSeries(size: 48, slices: 12, spacing: Vector3(0.9, 0.9, 2), seed: 5).write(to: folder.path)
        return try #require(try await SeriesScanner().scan([folder.path]).series.first)
    }

    private func centroid(_ map: LabelMap, value: Int) -> Vector3 {
        let values = map.values!
        var sum = Vector3(0, 0, 0), count = 0.0
        for z in 0..<values.size.z { for y in 0..<values.size.y { for x in 0..<values.size.x
            where values[x, y, z] == UInt16(value) {
            sum = sum + values.geometry.point(atIndex: Vector3(Double(x), Double(y), Double(z)))
            count += 1
        } } }
        return sum / count
    }

    @Test("a sphere resampled with its image stays on the image's grid, centred within half a voxel, and is stored with its classes")
    func sphereFollowsTheImage() async throws {
        let folder = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let series = try await series(in: folder.appendingPathComponent("ct"))
        let centre = series.geometry.point(atIndex: Vector3(23.3, 20.6, 5.4))
        let processor = try SeriesProcessor(configuration: PipelineTestSupport.configuration(inputs: [], output: nil))
        var plan = SeriesSelection(processor: processor).plan(series)
        plan.labels = [Spheres(spheres: [(3, "sphere", centre, 7.0)])]
        let volume = try await processor.process(plan)

        let labels = try #require(volume.labels)
        #expect(labels.layout == .classIndex)
        #expect(labels.size == volume.size && labels.geometry == volume.geometry)
        #expect(volume.geometry.spacing.x == 1.5)
        #expect(labels.classes == [LabelClass(value: 3, name: "sphere")])
        let expected = 4.0 / 3.0 * Double.pi * 343 / (1.5 * 1.5 * 1.5)
        let voxels = Double(labels.voxelCounts[3] ?? 0)
        #expect(abs(voxels - expected) / expected < 0.15, "\(voxels) voxels, a sphere of radius 7 mm holds \(expected)")
        let offset = (centroid(labels, value: 3) - centre).length
        #expect(offset < 0.75, "the centroid moved \(offset) mm")
        #expect(volume.labelWarnings == ["spheres.dcm: one contour lies on no slice"])

        let output = folder.appendingPathComponent("out")
        let writer = try ShardWriter(directory: output)
        let entry = try writer.write(volume.image.float32, labels: labels, sources: volume.labelSources,
                                     labelWarnings: volume.labelWarnings, key: volume.key, metadata: volume.metadata)
        _ = try writer.finish()
        #expect(entry.labels?.layout == .classIndex)
        #expect(entry.labels?.classes == ["3": "sphere"])
        #expect(entry.labels?.voxels == ["3": labels.voxelCounts[3]!])
        let reader = try ShardReader(url: output.appendingPathComponent(entry.shard))
        let stored = try reader.readLabel(volume.key)
        #expect(stored.voxels == labels.values!.voxels.map { UInt8($0) })
        #expect(try reader.volume(volume.key).labels == entry.labels)
        #expect(try reader.volume(volume.key).manifestEntry() == entry)
    }

    @Test("overlapping classes are kept as channels (C, z, y, x), never merged, and verify against their checksum")
    func overlapsBecomeChannels() async throws {
        let folder = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let series = try await series(in: folder.appendingPathComponent("ct"))
        let centre = series.geometry.point(atIndex: Vector3(24, 24, 6))
        let processor = try SeriesProcessor(configuration: PipelineTestSupport.configuration(inputs: [], output: nil))
        var plan = SeriesSelection(processor: processor).plan(series)
        plan.labels = [Spheres(spheres: [(1, "body", centre, 14.0), (2, "organ", centre, 5.0)])]
        let volume = try await processor.process(plan)
        let labels = try #require(volume.labels)
        #expect(labels.layout == .channels && labels.channels.count == 2)
        #expect(labels.overlappingVoxels == labels.voxelCounts[2])
        #expect(labels.voxelCounts[1]! > labels.voxelCounts[2]!)

        let output = folder.appendingPathComponent("out")
        let writer = try ShardWriter(directory: output)
        let entry = try writer.write(volume.image.float32, labels: labels, key: volume.key, metadata: volume.metadata)
        _ = try writer.finish()
        #expect(entry.labels?.layout == .channels)
        #expect(entry.labels?.overlappingVoxels == labels.overlappingVoxels)
        let reader = try ShardReader(url: output.appendingPathComponent(entry.shard))
        let stored = try reader.volume(volume.key)
        #expect(stored.labelChecksum == (try reader.storedChecksum(volume.key, dataset: "label")))
        #expect(try reader.readLabelChannels(volume.key) == labels.channels)
        let report = ManifestVerification(folder: output).run()
        #expect(report.checked == 1 && report.problems.isEmpty, "\(report.problems)")
    }

    @Test("a label object that cannot be placed leaves the image as it is, with a warning naming the file")
    func badLabelKeepsTheImage() async throws {
        let folder = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let series = try await series(in: folder.appendingPathComponent("ct"))
        let processor = try SeriesProcessor(configuration: PipelineTestSupport.configuration(inputs: [], output: nil))
        var plan = SeriesSelection(processor: processor).plan(series)
        let unlabelled = try await processor.process(plan)
        plan.labels = [Unreadable()]
        let volume = try await processor.process(plan)
        #expect(volume.labels == nil)
        #expect(volume.image == unlabelled.image)
        #expect(volume.labelWarnings.count == 1)
        #expect(volume.labelWarnings.first?.hasPrefix("broken-seg.dcm: label left out:") == true)
        #expect(volume.labelWarnings.first?.contains("frames do not land") == true)

        // labels.on_failure skip_volume: the series fails instead, naming the file and what to change.
        var configuration = PipelineTestSupport.configuration(inputs: [], output: nil)
        configuration.labels.onFailure = .skipVolume
        let strict = try SeriesProcessor(configuration: configuration)
        var strictPlan = SeriesSelection(processor: strict).plan(series)
        strictPlan.labels = [Unreadable()]
        do {
            _ = try await strict.process(strictPlan)
            Issue.record("a label that cannot be placed must fail the series under skip_volume")
        } catch let failure as LabelFailure {
            #expect(failure.file.hasSuffix("broken-seg.dcm"))
            #expect(failure.description.contains("labels.on_failure"))
        }
    }

    @Test("the labels section: defaults leave the configuration key as it was; pair false and skip_volume are read from a file, unknown keys refused")
    func labelsConfiguration() throws {
        let plain = RunConfiguration()
        var changed = plain
        changed.labels.onFailure = .skipVolume
        #expect(!String(decoding: plain.processingJSON, as: UTF8.self).contains("labels"))
        #expect(changed.key != plain.key)
        let folder = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("run.yaml")
        try "labels:\n  pair: false\n  on_failure: skip_volume\n".write(to: file, atomically: true, encoding: .utf8)
        let read = try ConfigurationFile.load(file.path)
        #expect(read.labels == RunConfiguration.Labels(pair: false, onFailure: .skipVolume))
        try "labels:\n  pairs: false\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) { try ConfigurationFile.load(file.path) }
    }
}

@Suite("Patches centred on labels")
struct PatchSamplerTests {
    @Test("with probability 1 every patch holds labelled voxels, in either layout; with 0 the starts are uniform and reproducible")
    func foregroundPatches() async throws {
        let folder = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try SyntheticSeries(size: 48, slices: 12, spacing: Vector3(0.9, 0.9, 2), seed: 5).write(to: folder.appendingPathComponent("ct").path)
        let series = try #require(try await SeriesScanner().scan([folder.appendingPathComponent("ct").path]).series.first)
        let processor = try SeriesProcessor(configuration: PipelineTestSupport.configuration(inputs: [], output: nil))
        let centre = series.geometry.point(atIndex: Vector3(10, 12, 3))
        for spheres in [[(1, "small", centre, 3.0)], [(1, "body", centre, 6.0), (2, "core", centre, 2.0)]] {
            var plan = SeriesSelection(processor: processor).plan(series)
            plan.labels = [LabelPipelineTests.Spheres(spheres: spheres)]
            let volume = try await processor.process(plan)
            let output = folder.appendingPathComponent("out-\(spheres.count)")
            let writer = try ShardWriter(directory: output)
            let entry = try writer.write(volume.image.float32, labels: volume.labels, key: volume.key, metadata: volume.metadata)
            _ = try writer.finish()
            let reader = try ShardReader(url: output.appendingPathComponent(entry.shard))
            let foreground = try reader.foregroundLocations(volume.key)
            #expect(foreground.count == volume.labels?.voxelCounts.values.max())
            let shape = [volume.size.z, volume.size.y, volume.size.x]
            var generator = SplitMix64(seed: 7)
            let sampler = PatchSampler(foregroundProbability: 1)
            for _ in 0..<20 {
                let start = sampler.start(shape: shape, patchSize: [6, 8, 8], foreground: foreground, using: &generator)
                if spheres.count == 1 {
                    let patch = try reader.patches(volume.key, dataset: "label").read(start: start, size: [6, 8, 8], as: UInt8.self)
                    #expect(patch.voxels.contains { $0 != 0 }, "patch at \(start) misses the sphere")
                } else {
                    #expect(foreground.contains { point in (0..<3).allSatisfy { point[$0] >= start[$0] && point[$0] < start[$0] + [6, 8, 8][$0] } })
                }
            }
            var first = SplitMix64(seed: 3), second = SplitMix64(seed: 3)
            let uniform = PatchSampler()
            #expect(uniform.start(shape: shape, patchSize: [6, 8, 8], foreground: foreground, using: &first)
                    == uniform.start(shape: shape, patchSize: [6, 8, 8], foreground: foreground, using: &second))
        }
    }
}
