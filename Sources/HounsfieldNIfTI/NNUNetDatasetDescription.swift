import Foundation

/// The parts of an nnU-Net `dataset.json` that pair and name files: channel names, label names and the file ending.
///
/// Both generations are read: nnU-Net v2 (`"channel_names": {"0": "CT"}`, `"labels": {"background": 0, "liver": 1}`,
/// `"file_ending"`) and the Medical Segmentation Decathlon / nnU-Net v1 form (`"modality": {"0": "CT"}`,
/// `"labels": {"0": "background", "1": "liver"}`). v2 region labels (a name mapped to a list of values) are not
/// classes of the label map and are listed apart in ``regions``.
public struct NNUNetDatasetDescription: Hashable, Sendable {
    /// Channel index → name (`channel_names`, or v1's `modality`).
    public var channelNames: [Int: String]
    /// Class value → name, background (0) excluded.
    public var labelNames: [Int: String]
    /// v2 region-based labels: name → the values the region unites.
    public var regions: [String: [Int]]
    /// The ending of every image and label file (v2 `file_ending`; `.nii.gz` when absent).
    public var fileEnding: String
    /// `numTraining`, when given.
    public var trainingCount: Int?

    /// Reads `dataset.json`; throws ``NNUNetError`` naming the file when it is unreadable or not a JSON object.
    public init(contentsOf path: String) throws(NNUNetError) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw NNUNetError.unreadableDescription(path: path, reason: "\(error.localizedDescription)")
        }
        guard let json = object as? [String: Any] else {
            throw NNUNetError.unreadableDescription(path: path, reason: "the top level is not a JSON object")
        }
        self.init(json: json)
    }

    /// Reads the fields from a parsed `dataset.json`; unknown or malformed entries are skipped.
    public init(json: [String: Any]) {
        var channels: [Int: String] = [:]
        for (key, value) in (json["channel_names"] ?? json["modality"]) as? [String: Any] ?? [:] {
            if let index = Int(key), let name = value as? String { channels[index] = name }
        }
        var labels: [Int: String] = [:]
        var regions: [String: [Int]] = [:]
        for (key, value) in json["labels"] as? [String: Any] ?? [:] {
            if let index = Int(key), let name = value as? String {
                labels[index] = name  // v1: "1": "liver"
            } else if let number = value as? NSNumber {
                labels[number.intValue] = key  // v2: "liver": 1
            } else if let values = value as? [NSNumber] {
                regions[key] = values.map(\.intValue)
            }
        }
        labels[0] = nil
        channelNames = channels
        labelNames = labels
        self.regions = regions
        fileEnding = json["file_ending"] as? String ?? ".nii.gz"
        trainingCount = (json["numTraining"] as? NSNumber)?.intValue
    }
}

/// Why an nnU-Net dataset folder could not be listed.
public enum NNUNetError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `dataset.json` exists but cannot be read or parsed (path, reason).
    case unreadableDescription(path: String, reason: String)
    /// The folder has no `imagesTr/` and no `imagesTs/` (path).
    case notADataset(path: String)

    public var description: String {
        switch self {
        case .unreadableDescription(let path, let reason):
            "\(path) cannot be read as an nnU-Net dataset.json (\(reason)); fix or remove it"
        case .notADataset(let path):
            "\(path) has neither imagesTr/ nor imagesTs/; point at an nnU-Net raw dataset folder (Dataset001_Name)"
        }
    }
}
