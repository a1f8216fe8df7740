import Foundation
import Hounsfield
import HounsfieldHDF5
import HounsfieldTestSupport
import Testing

@Suite("Shards read by h5py and the HDF5 tools", .enabled(if: PythonPeer.shouldRun, "needs HOUNSFIELD_PYTHON (scripts/test.sh)"))
struct ShardPythonTests {
    /// Writes a folder with the default settings (gzip 1 + shuffle, slabs), plus a zstd worker and a label, and
    /// checks every volume through `Examples/python/hounsfield_shards.py` on h5py.
    @Test("h5py reads every volume: values, checksum, geometry and attributes as docs/format.md says")
    func h5pyReadsShards() async throws {
        let folder = ShardTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let image = ShardTestSupport.phantom()
        let label = ShardTestSupport.label(for: image)
        let writer = try ShardWriter(directory: folder, options: .init(maxVolumesPerShard: 2, previews: PreviewOptions()))
        let previews = PreviewWriter(folder: OutputFolder(folder))
        let metadata = VolumeMetadata(warnings: ["tilt 12° corrected"])
        try writer.write(image, label: label, key: "with-label", metadata: metadata)
        try previews.write(image, key: "with-label", metadata: metadata)
        try writer.write(image.converted(to: Int16.self), key: "int16")
        try previews.write(image.converted(to: Int16.self), key: "int16", metadata: VolumeMetadata())
        try writer.write(image, labels: ShardTestSupport.wideLabels(for: image), key: "wide-labels")
        try writer.write(image.converted(to: Float16.self), key: "float16")
        try previews.write(image.converted(to: Float16.self), key: "float16", metadata: VolumeMetadata())
        try writer.finish()
        try previews.writeIndex()
        let zstd = try ShardWriter(directory: folder, options: .init(compression: .zstd(level: 3), chunks: .cubes(edge: 16), worker: "z1"))
        try zstd.write(ShardTestSupport.phantom(seed: 9), key: "zstd-cubes")
        try zstd.finish()

        let data = try await PythonPeer.output("check_shards.py", arguments: [folder.path])
        let report = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let volumes = report["volumes"] as! [[String: Any]]
        #expect(volumes.count == 5)
        #expect((report["problems"] as? [Any])?.isEmpty == true, "\(report["problems"] ?? "")")
        #expect(report["patch_ok"] as? Bool == true, "\(report["failures"] ?? "")")
        #expect(report["dataset_ok"] as? Bool == true, "\(report["failures"] ?? "")")
        // With torch in the venv (scripts/test.sh installs a CPU build when it can), the reader runs under a
        // DataLoader with two worker processes; without it the check says "absent".
        let torch = report["torch"] as? String ?? "missing"
        #expect(torch == "ok" || torch == "absent", "\(torch): \(report["failures"] ?? "")")
        let attributes = report["file_attrs"] as! [String: Any]
        #expect(attributes["format"] as? String == "hounsfield-shard")
        #expect(attributes["format_version"] as? Int == 1)
        let folderReader = OutputFolder(folder)
        let entries = Dictionary(uniqueKeysWithValues: folderReader.manifestEntries().entries.map { ($0.key, $0) })
        for volume in volumes {
            let key = volume["key"] as! String
            let entry = try #require(entries[key])
            #expect(volume["checksum_ok"] as? Bool == true, "\(key)")
            #expect(volume["checksum"] as? String == entry.checksum)
            #expect(volume["shape"] as? [Int] == entry.shape)
            #expect(volume["dtype"] as? String == entry.dtype.rawValue)
            #expect(close(volume["spacing"] as! [Double], image.geometry.spacing.array))
            #expect(close(volume["origin"] as! [Double], image.geometry.origin.array))
            #expect(close(volume["direction"] as! [Double], image.geometry.direction.rowMajor))
            #expect(close(volume["affine_lps"] as! [Double], image.geometry.affineLPS.flatMap { $0 }))
            let stored = try ShardReader(url: folder.appendingPathComponent(entry.shard)).readImage(key, as: Float32.self)
            let sum = stored.voxels.reduce(0.0) { $0 + Double($1) }
            #expect(abs((volume["sum"] as! Double) - sum) <= 1e-6 * max(1, abs(sum)), "\(key)")
        }
        #expect(volumes.first { $0["key"] as? String == "with-label" }?["has_label"] as? Bool == true)
        // A class value above 255: uint16 in the file, its checksum and patches as h5py reads them, and (in the
        // DataLoader run above) batches of uint8 and uint16 labels stack because the dataset widens them all.
        let wide = try #require(volumes.first { $0["key"] as? String == "wide-labels" })
        #expect(wide["label_dtype"] as? String == "uint16" && wide["label_checksum_ok"] as? Bool == true)
        #expect(volumes.first { $0["key"] as? String == "with-label" }?["label_dtype"] as? String == "uint8")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("index.html").path))
        let jpeg = try Data(contentsOf: folder.appendingPathComponent("previews/with-label.jpg"))
        #expect(jpeg.prefix(2) == Data([0xFF, 0xD8]))
    }

    @Test("h5ls and h5dump show the documented layout and attributes")
    func hdf5ToolsShowLayout() throws {
        let folder = ShardTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let writer = try ShardWriter(directory: folder)
        try writer.write(ShardTestSupport.phantom(), key: "ct")
        try writer.finish()
        let shard = folder.appendingPathComponent("shard-00000.h5").path
        let listing = try run("/usr/bin/h5ls", ["-r", "-v", shard])
        #expect(listing.contains("/volumes/ct/image"))
        #expect(listing.contains("shuffle") && listing.contains("deflate"))
        let header = try run("/usr/bin/h5dump", ["-H", "-A", shard])
        for attribute in ["format", "format_version", "spacing", "origin", "direction", "affine_lps", "affine_ras", "checksum", "transform_key"] {
            #expect(header.contains("ATTRIBUTE \"\(attribute)\""), "\(attribute)")
        }
        #expect(header.contains("H5T_IEEE_F32LE"))
    }

    private func run(_ tool: String, _ arguments: [String]) throws -> String { try toolOutput(tool, arguments) }
}

/// What `tool` prints on standard output, once it has ended (its standard error is the test log's).
func toolOutput(_ tool: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

func close(_ a: [Double], _ b: [Double], tolerance: Double = 1e-9) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
}
