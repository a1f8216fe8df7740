import Foundation

/// An nnU-Net raw dataset folder (`DatasetXXX_Name/`): its cases, each with its image channel files and label file,
/// as nnU-Net itself pairs them.
///
/// `imagesTr/CASE_0000.nii.gz`, `CASE_0001.nii.gz`, … are the channels of case `CASE` (the 4-digit suffix is the
/// channel index in `dataset.json`'s `channel_names`); its label is `labelsTr/CASE.nii.gz`. `imagesTs/` holds test
/// cases (labels from `labelsTs/` when present). A Decathlon-style file without a 4-digit suffix is one case with one
/// channel. Files are matched by the `file_ending` of `dataset.json` (`.nii.gz` without one).
public struct NNUNetDataset: Sendable {
    /// One case: its identifier, channel files and label.
    public struct Case: Hashable, Sendable {
        /// The case identifier (the file name without channel suffix and ending).
        public var identifier: String
        /// Whether the case comes from `imagesTr/` (training) or `imagesTs/` (test).
        public var isTraining: Bool
        /// Channel index → image file path.
        public var channels: [Int: String]
        /// The label file, or nil when the case has none.
        public var label: String?
        /// Channel indices `dataset.json` names that the case lacks (a case to skip or fix before training).
        public var missingChannels: [Int]
    }

    /// The dataset folder.
    public let folder: String
    /// `dataset.json`, when the folder has one.
    public let datasetDescription: NNUNetDatasetDescription?
    /// Every case, training cases first, each group in identifier order.
    public let cases: [Case]
    /// Label files in `labelsTr/` (or `labelsTs/`) with no image case of the same identifier.
    public let orphanLabels: [String]

    /// Lists `folder`. Throws when `dataset.json` is present but unreadable, or when there is no image folder.
    public init(folder: String) throws(NNUNetError) {
        guard Self.isDataset(folder) else { throw .notADataset(path: folder) }
        let descriptionPath = folder + "/dataset.json"
        let description = FileManager.default.fileExists(atPath: descriptionPath)
            ? try NNUNetDatasetDescription(contentsOf: descriptionPath) : nil
        let ending = description?.fileEnding ?? ".nii.gz"

        var cases: [Case] = []
        var orphans: [String] = []
        for (images, labels, training) in [("imagesTr", "labelsTr", true), ("imagesTs", "labelsTs", false)] {
            var channels: [String: [Int: String]] = [:]
            for name in Self.files(in: folder + "/" + images, ending: ending) {
                let stem = String(name.dropLast(ending.count))
                let (identifier, channel) = Self.splitChannel(stem)
                channels[identifier, default: [:]][channel] = folder + "/" + images + "/" + name
            }
            var labelFiles: [String: String] = [:]
            for name in Self.files(in: folder + "/" + labels, ending: ending) {
                labelFiles[String(name.dropLast(ending.count))] = folder + "/" + labels + "/" + name
            }
            for identifier in channels.keys.sorted() {
                let present = channels[identifier]!
                let expected = description.map { Set($0.channelNames.keys) } ?? []
                cases.append(Case(
                    identifier: identifier, isTraining: training, channels: present, label: labelFiles[identifier],
                    missingChannels: expected.subtracting(present.keys).sorted()))
            }
            orphans += labelFiles.filter { channels[$0.key] == nil }.map(\.value).sorted()
        }
        self.folder = folder
        self.datasetDescription = description
        self.cases = cases
        self.orphanLabels = orphans
    }

    /// Whether `folder` is an nnU-Net raw dataset: it has `imagesTr/` or `imagesTs/`. Two `stat`s, no listing, so
    /// discovery and the coordinator's listing can ask it of every folder they meet.
    public static func isDataset(_ folder: String) -> Bool {
        FileManager.default.fileExists(atPath: folder + "/imagesTr") || FileManager.default.fileExists(atPath: folder + "/imagesTs")
    }

    /// Splits `CASE_0001` into ("CASE", 1); a stem without a 4-digit suffix is channel 0 of itself.
    static func splitChannel(_ stem: String) -> (String, Int) {
        let parts = stem.split(separator: "_", omittingEmptySubsequences: false)
        if parts.count > 1, let last = parts.last, last.count == 4, last.allSatisfy(\.isASCII),
           let channel = Int(last) {
            return (parts.dropLast().joined(separator: "_"), channel)
        }
        return (stem, 0)
    }

    /// Regular files in `folder` with `ending`, hidden files excluded, sorted.
    static func files(in folder: String, ending: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix(ending) && !$0.hasPrefix(".") && $0.count > ending.count }.sorted()
    }
}
