@testable import HounsfieldDICOM
import Testing

/// The vectorized 16-bit conversion must give exactly the values of the one-sample-at-a-time definition, for every
/// layout of stored bits, signedness, padding and rescale that CT files use (and some they should not).
@Suite("Stored values to HU: fast paths equal the definition")
struct StoredValueConversionTests {
    struct Layout: CustomTestStringConvertible, Sendable {
        var bitsStored: Int, highBit: Int, signed: Bool
        var testDescription: String { "\(bitsStored) bits stored, high bit \(highBit), \(signed ? "signed" : "unsigned")" }
    }

    static let layouts: [Layout] = [
        .init(bitsStored: 16, highBit: 15, signed: true), .init(bitsStored: 16, highBit: 15, signed: false),
        .init(bitsStored: 12, highBit: 11, signed: true), .init(bitsStored: 12, highBit: 11, signed: false),
        .init(bitsStored: 12, highBit: 15, signed: true), .init(bitsStored: 10, highBit: 13, signed: false),
        .init(bitsStored: 1, highBit: 0, signed: false), .init(bitsStored: 13, highBit: 12, signed: true),
    ]

    static let rescales: [(slope: Double, intercept: Double, padding: ClosedRange<Int>?)] = [
        (1, -1024, nil), (1, -1024, -2000 ... -2000), (1, 0, 0 ... 5), (0.5, -1024, nil), (2.5, -1000.25, -3000 ... -1500),
        (1, 0.5, 100 ... 200), (1, 0, nil),
    ]

    @Test(arguments: layouts)
    func sixteenBitWords(_ layout: Layout) {
        let format = StoredValueFormat(bitsAllocated: 16, bitsStored: layout.bitsStored, highBit: layout.highBit,
                                       isSigned: layout.signed)
        // Every possible word, garbage above HighBit included.
        let words = (0...UInt16.max).map { $0 }
        for rescale in Self.rescales {
            var fast = [Float](repeating: .nan, count: words.count)
            var reference = [Float](repeating: .nan, count: words.count)
            words.withUnsafeBytes { raw in
                fast.withUnsafeMutableBufferPointer {
                    format.convert(raw.baseAddress!, count: words.count, slope: rescale.slope,
                                   intercept: rescale.intercept, padding: rescale.padding, paddingValue: -1000,
                                   into: $0.baseAddress!)
                }
                reference.withUnsafeMutableBufferPointer {
                    format.convertGeneric(raw.baseAddress!.assumingMemoryBound(to: UInt16.self), words.count,
                                          rescale.slope, rescale.intercept, rescale.padding, -1000, $0.baseAddress!)
                }
            }
            let firstDifference = fast.indices.first { fast[$0].bitPattern != reference[$0].bitPattern }
            #expect(firstDifference == nil, "slope \(rescale.slope), intercept \(rescale.intercept), padding \(String(describing: rescale.padding)): word \(firstDifference.map { String($0, radix: 16) } ?? "")")
        }
    }
}
