import HounsfieldCore

/// One element found by `LittleEndianParser`: its tag, its VR, and where its value lies in the parsed bytes. A
/// sequence keeps its items, each a list of elements in ascending tag order.
struct DataElement: Sendable {
    /// `(group << 16) | element`.
    let tag: UInt32
    let vr: ValueRepresentation
    /// Offset of the value in the bytes the data set was parsed from.
    let offset: Int
    /// Length of the value in bytes (0 for a sequence of undefined length: its items hold its content).
    let length: Int
    /// The items of a sequence (`SQ`), empty for every other VR.
    let items: [[DataElement]]
}

extension [DataElement] {
    /// The element with `tag`, found by binary search (the parser only accepts ascending tags).
    func element(_ tag: UInt32) -> DataElement? {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if self[middle].tag < tag { low = middle + 1 } else { high = middle }
        }
        return low < count && self[low].tag == tag ? self[low] : nil
    }
}
