import Foundation
import HounsfieldCore
import HounsfieldNIfTI
import Testing

/// The nnU-Net raw layout and pairing by file name, on folders made from the test files.
@Suite("NIfTI datasets and pairing")
struct NNUNetDatasetTests {
    private func copy(_ relative: String, to path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: NIfTITestSupport.path(relative), toPath: path)
    }

    @Test("nnU-Net v2: cases with their channels and labels, names from dataset.json")
    func nnUNetV2() throws {
        let root = NIfTITestSupport.temporaryFolder()
        defer { NIfTITestSupport.remove(root) }
        try copy("totalseg-ct/example_ct_sm.nii.gz", to: root + "/imagesTr/ts_001_0000.nii.gz")
        try copy("totalseg-ct/example_ct_sm.nii.gz", to: root + "/imagesTr/ts_001_0001.nii.gz")
        try copy("totalseg-ct/example_seg.nii.gz", to: root + "/labelsTr/ts_001.nii.gz")
        try copy("nibabel-orientation/standard.nii.gz", to: root + "/imagesTr/std_0000.nii.gz")
        try copy("nibabel-orientation/standard.nii.gz", to: root + "/labelsTr/std.nii.gz")
        try copy("nibabel-orientation/standard.nii.gz", to: root + "/labelsTr/lonely.nii.gz")
        try copy("totalseg-ct/example_ct_sm.nii.gz", to: root + "/imagesTs/test_7_0000.nii.gz")
        let json = """
            {"channel_names": {"0": "CT", "1": "CT again"}, "labels": {"background": 0, "thing": 255, "organs": [1, 2]},
             "numTraining": 2, "file_ending": ".nii.gz"}
            """
        try Data(json.utf8).write(to: URL(fileURLWithPath: root + "/dataset.json"))

        let dataset = try NNUNetDataset(folder: root)
        let description = try #require(dataset.datasetDescription)
        #expect(description.channelNames == [0: "CT", 1: "CT again"])
        #expect(description.labelNames == [255: "thing"])
        #expect(description.regions == ["organs": [1, 2]])
        #expect(description.trainingCount == 2)
        #expect(dataset.cases.map(\.identifier) == ["std", "ts_001", "test_7"])
        #expect(dataset.cases.map(\.isTraining) == [true, true, false])
        let totalseg = dataset.cases[1]
        #expect(totalseg.channels == [0: root + "/imagesTr/ts_001_0000.nii.gz", 1: root + "/imagesTr/ts_001_0001.nii.gz"])
        #expect(totalseg.label == root + "/labelsTr/ts_001.nii.gz")
        #expect(totalseg.missingChannels.isEmpty)
        #expect(dataset.cases[0].missingChannels == [1])
        #expect(dataset.cases[2].label == nil)
        #expect(dataset.orphanLabels == [root + "/labelsTr/lonely.nii.gz"])

        // Names: the file's own label table first; dataset.json's for a file without one.
        let standard = dataset.cases[0]
        let image = try NIfTIImage(contentsOf: standard.channels[0]!)
        let label = try NIfTIImage(contentsOf: try #require(standard.label))
        let segments = try label.labelSegments(
            onto: image.size, geometry: image.geometry, fallbackNames: description.labelNames)
        #expect(segments.map(\.labelClass) == [LabelClass(value: 255, name: "thing")])
        #expect(segments[0].voxelCount == 30)
        let ct = try NIfTIImage(contentsOf: totalseg.channels[0]!)
        let organs = try NIfTIImage(contentsOf: totalseg.label!)
            .labelSegments(onto: ct.size, geometry: ct.geometry, fallbackNames: [1: "not this one"])
        #expect(organs.first?.labelClass.name == "spleen")
    }

    @Test("Decathlon / v1: labels as value → name, files without a channel suffix")
    func decathlon() throws {
        let root = NIfTITestSupport.temporaryFolder()
        defer { NIfTITestSupport.remove(root) }
        try copy("nibabel-orientation/standard.nii.gz", to: root + "/imagesTr/liver_3.nii.gz")
        try copy("nibabel-orientation/standard.nii.gz", to: root + "/labelsTr/liver_3.nii.gz")
        try Data(#"{"modality": {"0": "CT"}, "labels": {"0": "background", "1": "liver", "2": "cancer"}}"#.utf8)
            .write(to: URL(fileURLWithPath: root + "/dataset.json"))
        let dataset = try NNUNetDataset(folder: root)
        #expect(dataset.datasetDescription?.labelNames == [1: "liver", 2: "cancer"])
        #expect(dataset.datasetDescription?.channelNames == [0: "CT"])
        #expect(dataset.cases.count == 1)
        #expect(dataset.cases[0].identifier == "liver_3")
        #expect(dataset.cases[0].channels[0] == root + "/imagesTr/liver_3.nii.gz")
        #expect(dataset.cases[0].label == root + "/labelsTr/liver_3.nii.gz")
    }

    @Test("a folder that is not a dataset, and a broken dataset.json, are errors")
    func errors() throws {
        let root = NIfTITestSupport.temporaryFolder()
        defer { NIfTITestSupport.remove(root) }
        #expect(throws: NNUNetError.notADataset(path: root)) { try NNUNetDataset(folder: root) }
        try FileManager.default.createDirectory(atPath: root + "/imagesTr", withIntermediateDirectories: true)
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: root + "/dataset.json"))
        #expect(throws: NNUNetError.self) { try NNUNetDataset(folder: root) }
    }

    @Test("pairing by name: _seg, -label, ambiguity, orphans and images without labels")
    func namePairing() throws {
        let root = NIfTITestSupport.temporaryFolder()
        defer { NIfTITestSupport.remove(root) }
        let file = "nibabel-orientation/standard.nii.gz"
        for name in ["ct.nii.gz", "ct_seg.nii.gz", "B.nii", "b-LABEL.nii", "alone.nii.gz", "ghost_mask.nii.gz",
                     "two.nii.gz", "two_seg.nii.gz", "two_label.nii.gz", "ct_seg_mask.nii.gz"] {
            try copy(file, to: root + "/" + name)
        }
        try Data("notes".utf8).write(to: URL(fileURLWithPath: root + "/README.txt"))
        let pairing = NIfTINamePairing(folder: root)
        #expect(pairing.pairs == [
            .init(image: root + "/B.nii", label: root + "/b-LABEL.nii"),
            .init(image: root + "/ct.nii.gz", label: root + "/ct_seg.nii.gz"),
        ])
        #expect(pairing.ambiguous == [root + "/two.nii.gz": [root + "/two_label.nii.gz", root + "/two_seg.nii.gz"]])
        #expect(pairing.orphanLabels == [root + "/ct_seg_mask.nii.gz", root + "/ghost_mask.nii.gz"])
        #expect(pairing.unpairedImages == [root + "/alone.nii.gz"])
    }
}
