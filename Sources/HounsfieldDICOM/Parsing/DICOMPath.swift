import HounsfieldCore
/// The address of an attribute, possibly nested in sequence items: `tag, item, tag, item, …, tag`.
///
/// `DICOMPath(.perFrameFunctionalGroups, item: 3, .planePositionSequence, item: 0, .imagePositionPatient)` reads as
/// the path a person would follow in `dcmdump` output.
struct DICOMPath: Hashable, Sendable {
    private(set) var components: [UInt32]

    init(_ tag: DICOMTag) { components = [tag.value] }

    init(_ sequence: DICOMTag, item: Int, _ tag: DICOMTag) {
        components = [sequence.value, UInt32(item), tag.value]
    }

    init(_ outer: DICOMTag, item outerItem: Int, _ inner: DICOMTag, item innerItem: Int, _ tag: DICOMTag) {
        components = [outer.value, UInt32(outerItem), inner.value, UInt32(innerItem), tag.value]
    }
}

extension DICOMPath {
    /// A path through any number of sequence items: `DICOMPath([(.a, 0), (.b, 2)], .c)` is `a[0].b[2].c`. Label
    /// objects nest deeper than images (an RTSTRUCT's referenced series sits three sequences down).
    init(_ steps: [(sequence: DICOMTag, item: Int)], _ tag: DICOMTag) {
        self.init(tag)
        components = steps.flatMap { [$0.sequence.value, UInt32($0.item)] } + [tag.value]
    }
}
