/// How stored pixel values are laid out in their bytes, and how they become Hounsfield units.
///
/// `HU = stored × RescaleSlope + RescaleIntercept`, per slice. Stored values occupy bits `HighBit − BitsStored + 1`
/// through `HighBit` of each `BitsAllocated`-bit word; anything above is overlay or garbage and is masked off; signed
/// values are sign-extended from `BitsStored` bits.
struct StoredValueFormat: Hashable, Sendable {
    let bitsAllocated: Int
    let bitsStored: Int
    let highBit: Int
    let isSigned: Bool

    init(_ header: ImageHeader) {
        bitsAllocated = header.bitsAllocated
        bitsStored = header.bitsStored
        highBit = header.highBit
        isSigned = header.isSigned
    }

    var bytesPerSample: Int { bitsAllocated / 8 }

    /// Converts `count` samples at `raw` into `output`.
    func convert(
        _ raw: UnsafeRawPointer, count: Int, slope: Double, intercept: Double, padding: ClosedRange<Int>?,
        paddingValue: Float, into output: UnsafeMutablePointer<Float>
    ) {
        let exactInFloat = slope == 1 && intercept == intercept.rounded() && abs(intercept) < 1_048_576.0
        let isPlain16 = bitsAllocated == 16 && bitsStored == 16 && highBit == 15
        if isPlain16 && padding == nil && exactInFloat {
            let offset = Float(intercept)
            if isSigned {
                let samples = raw.assumingMemoryBound(to: Int16.self)
                for index in 0..<count { output[index] = Float(samples[index]) + offset }
            } else {
                let samples = raw.assumingMemoryBound(to: UInt16.self)
                for index in 0..<count { output[index] = Float(samples[index]) + offset }
            }
            return
        }
        switch bitsAllocated {
        case 8: convertGeneric(raw.assumingMemoryBound(to: UInt8.self), count, slope, intercept, padding, paddingValue, output)
        case 16: convertGeneric(raw.assumingMemoryBound(to: UInt16.self), count, slope, intercept, padding, paddingValue, output)
        default: convertGeneric(raw.assumingMemoryBound(to: UInt32.self), count, slope, intercept, padding, paddingValue, output)
        }
    }

    private func convertGeneric<Word: FixedWidthInteger & UnsignedInteger>(
        _ samples: UnsafePointer<Word>, _ count: Int, _ slope: Double, _ intercept: Double,
        _ padding: ClosedRange<Int>?, _ paddingValue: Float, _ output: UnsafeMutablePointer<Float>
    ) {
        let shift = UInt64(highBit + 1 - bitsStored)
        let mask: UInt64 = bitsStored >= 64 ? ~0 : (1 << UInt64(bitsStored)) - 1
        let signBit: UInt64 = 1 << UInt64(bitsStored - 1)
        let signed = isSigned
        let low = padding.map { Int64($0.lowerBound) } ?? 1, high = padding.map { Int64($0.upperBound) } ?? 0
        for index in 0..<count {
            let bits = (UInt64(samples[index]) >> shift) & mask
            let value = signed && bits & signBit != 0 ? Int64(bits) - Int64(mask) - 1 : Int64(bits)
            if value >= low && value <= high {
                output[index] = paddingValue
            } else {
                output[index] = Float(Double(value) * slope + intercept)
            }
        }
    }
}
