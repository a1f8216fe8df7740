import Foundation
import HounsfieldCore
import HounsfieldNIfTI
import Logging

/// The NIfTI copies of a run (`output.nifti`), as a sink of their own: the write stage hands each written volume
/// over (sharing its voxels) and goes on; this task writes `imagesTr/KEY_0000.nii.gz` and, for a volume with a class
/// map, `labelsTr/KEY.nii.gz`, and when the run ends `dataset.json` — nnU-Net's raw layout, so
/// `nnUNetv2_plan_and_preprocess` or MONAI's NIfTI loaders take the folder as it is.
///
/// The shards stay the output of record: a copy is written after its volume is published, each file atomically
/// (a temporary file renamed), and a copy that cannot be written is logged and counted, never failing the volume.
/// A label in the channel layout (overlapping classes) has no place in nnU-Net's layout, which holds class maps
/// only: it is written beside it, as `labelsChannels/KEY.nii.gz` (4-D uint8, `(x, y, z, C)`, channel c the c-th
/// class in increasing value, as MONAI's `LoadImage` reads a multi-channel label) with `labelsChannels/KEY.json`
/// naming each channel's class, and a warning says it is not in `labelsTr/`.
struct NIfTISink: Sendable {
    /// `OUTPUT/nifti`.
    let folder: URL
    let logger: Logger

    func run(from input: BoundedChannel<ProcessedVolume>) async {
        var classes: [Int: String] = [:]
        for await volume in input {
            let folder = self.folder
            do {
                try await ParallelLoop.offload { () throws(NIfTIError) in try Self.write(volume, into: folder) }
                if let labels = volume.labels, labels.layout == .classIndex {
                    for labelClass in labels.classes { classes[labelClass.value] = labelClass.name }
                } else if volume.labels != nil {
                    logger.warning("a label with overlapping classes (channels) is written to nifti/labelsChannels, not labelsTr: nnU-Net's layout holds class maps only",
                                   metadata: ["key": "\(volume.key)"])
                }
            } catch {
                logger.warning("could not write a NIfTI copy", metadata: ["key": "\(volume.key)", "error": "\(error)"])
            }
        }
        do { try writeDatasetDescription(adding: classes) } catch {
            logger.warning("could not write nifti/dataset.json", metadata: ["error": "\(error)"])
        }
    }

    /// The image and its class map, as nnU-Net names them.
    static func write(_ volume: ProcessedVolume, into folder: URL) throws(NIfTIError) {
        let images = folder.appendingPathComponent("imagesTr"), labels = folder.appendingPathComponent("labelsTr")
        for sub in [images, labels] { try makeFolder(sub) }
        let image = images.appendingPathComponent("\(volume.key)_0000.nii.gz").path
        switch volume.image {
        case .float32(let v): try NIfTIWriter.write(v, to: image)
        case .int16(let v): try NIfTIWriter.write(v, to: image)
        case .uint8(let v): try NIfTIWriter.write(v, to: image)
        // The configuration refuses float16 with NIfTI copies (NIfTI-1 has no such type); a caller that set it
        // anyway gets float32, which holds every float16 value exactly.
        case .float16(let v): try NIfTIWriter.write(v.converted(to: Float32.self), to: image)
        }
        guard let map = volume.labels else { return }
        guard let values = map.values else { return try writeChannels(map, key: volume.key, into: folder) }
        let label = labels.appendingPathComponent("\(volume.key).nii.gz").path
        if map.needsTwoBytes {
            try NIfTIWriter.write(values, to: label)
        } else {
            try NIfTIWriter.write(values.converted(to: UInt8.self), to: label)
        }
    }

    /// Creates `folder` (and its parents) if needed; an error names it.
    private static func makeFolder(_ folder: URL) throws(NIfTIError) {
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw NIfTIError(path: folder.path, reason: .unwritable("cannot create the folder (\(error.localizedDescription))"))
        }
    }

    /// A channel label as one 4-D file and the classes of its channels, in `labelsChannels/`.
    private static func writeChannels(_ map: LabelMap, key: String, into folder: URL) throws(NIfTIError) {
        let channels = folder.appendingPathComponent("labelsChannels")
        let file = channels.appendingPathComponent("\(key).nii.gz").path
        try makeFolder(channels)
        try NIfTIWriter.write(channels: map.channels, to: file)
        let classes: [[String: Any]] = map.classes.enumerated().map { ["channel": $0.offset, "value": $0.element.value, "name": $0.element.name] }
        let sidecar = channels.appendingPathComponent("\(key).json")
        do {
            let data = try JSONSerialization.data(withJSONObject: ["channels": classes], options: [.sortedKeys, .prettyPrinted])
            try data.write(to: sidecar, options: .atomic)
        } catch {
            throw NIfTIError(path: sidecar.path, reason: .unwritable(error.localizedDescription))
        }
    }

    /// nnU-Net's `dataset.json`: one CT channel, the classes seen (merged with those an earlier run recorded), and
    /// as many training cases as `labelsTr` holds label maps.
    private func writeDatasetDescription(adding classes: [Int: String]) throws {
        let path = folder.appendingPathComponent("dataset.json")
        var labels: [String: Int] = ["background": 0]
        if let data = try? Data(contentsOf: path),
           let earlier = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["labels"] as? [String: Int] {
            labels.merge(earlier) { ours, _ in ours }
        }
        for (value, name) in classes where value != 0 { labels[name] = value }
        let cases = (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("labelsTr").path))?
            .filter { $0.hasSuffix(".nii.gz") }.count ?? 0
        guard cases > 0 || FileManager.default.fileExists(atPath: folder.path) else { return }
        let description: [String: Any] = [
            "channel_names": ["0": "CT"], "labels": labels, "numTraining": cases, "file_ending": ".nii.gz",
            "name": "Hounsfield export",
        ]
        let data = try JSONSerialization.data(withJSONObject: description, options: [.sortedKeys, .prettyPrinted])
        try data.write(to: path, options: .atomic)
    }
}
