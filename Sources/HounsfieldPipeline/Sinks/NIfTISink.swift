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
/// A label in the channel layout (overlapping classes) has no place in nnU-Net's layout and is left out of it, with
/// a warning.
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
                    logger.warning("a label with overlapping classes (channels) has no NIfTI copy: nnU-Net's layout holds class maps only",
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
        for sub in [images, labels] {
            do { try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true) } catch {
                throw NIfTIError(path: sub.path, reason: .unwritable("cannot create the folder (\(error.localizedDescription))"))
            }
        }
        let image = images.appendingPathComponent("\(volume.key)_0000.nii.gz").path
        switch volume.image {
        case .float32(let v): try NIfTIWriter.write(v, to: image)
        case .int16(let v): try NIfTIWriter.write(v, to: image)
        case .uint8(let v): try NIfTIWriter.write(v, to: image)
        // The configuration refuses float16 with NIfTI copies (NIfTI-1 has no such type); a caller that set it
        // anyway gets float32, which holds every float16 value exactly.
        case .float16(let v): try NIfTIWriter.write(v.converted(to: Float32.self), to: image)
        }
        guard let map = volume.labels, let values = map.values else { return }
        let label = labels.appendingPathComponent("\(volume.key).nii.gz").path
        if map.largestValue <= 255 {
            try NIfTIWriter.write(values.converted(to: UInt8.self), to: label)
        } else {
            try NIfTIWriter.write(values, to: label)
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
