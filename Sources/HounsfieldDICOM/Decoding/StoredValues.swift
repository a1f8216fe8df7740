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

    init(bitsAllocated: Int, bitsStored: Int, highBit: Int, isSigned: Bool) {
        self.bitsAllocated = bitsAllocated
        self.bitsStored = bitsStored
        self.highBit = highBit
        self.isSigned = isSigned
    }

    var bytesPerSample: Int { bitsAllocated / 8 }

    /// Converts `count` samples at `raw` into `output`.
    func convert(
        _ raw: UnsafeRawPointer, count: Int, slope: Double, intercept: Double, padding: ClosedRange<Int>?,
        paddingValue: Float, into output: UnsafeMutablePointer<Float>
    ) {
        let exactInFloat = slope == 1 && intercept == intercept.rounded() && abs(intercept) < 1_048_576.0
        let paddingFits = padding.map { Int32(exactly: $0.lowerBound) != nil && Int32(exactly: $0.upperBound) != nil } ?? true
        if bitsAllocated == 16 && bitsStored > 0 && bitsStored <= highBit + 1 && highBit < 16 && paddingFits {
            convert16(raw.assumingMemoryBound(to: UInt16.self), count, slope, intercept, padding, paddingValue,
                      exactInFloat: exactInFloat, output)
            return
        }
        switch bitsAllocated {
        case 8: convertGeneric(raw.assumingMemoryBound(to: UInt8.self), count, slope, intercept, padding, paddingValue, output)
        case 16: convertGeneric(raw.assumingMemoryBound(to: UInt16.self), count, slope, intercept, padding, paddingValue, output)
        default: convertGeneric(raw.assumingMemoryBound(to: UInt32.self), count, slope, intercept, padding, paddingValue, output)
        }
    }

    /// 16-bit words, the common case of CT (plain, with padding, or with bits above `HighBit`): the same values as
    /// `convertGeneric`, in loops without branches or per-sample decisions, which the compiler vectorizes.
    private func convert16(
        _ samples: UnsafePointer<UInt16>, _ count: Int, _ slope: Double, _ intercept: Double,
        _ padding: ClosedRange<Int>?, _ paddingValue: Float, exactInFloat: Bool, _ output: UnsafeMutablePointer<Float>
    ) {
        // Moving the stored bits to the top of 32 bits and shifting back masks what lies above HighBit and
        // sign-extends (arithmetic shift) or zero-extends (logical shift) in one step.
        let up = UInt32(31 - highBit), down = UInt32(32 - bitsStored)
        // Padding as one unsigned comparison: v in low...high ⟺ (v − low) as UInt32 ≤ high − low.
        let low = Int32(clamping: padding?.lowerBound ?? 0)
        let span = padding.map { UInt32(clamping: Int64($0.upperBound) - Int64($0.lowerBound)) }
        let offset = Float(intercept)
        @inline(__always) func run(_ value: (UInt16) -> Int32, _ hounsfield: (Int32) -> Float) {
            if let span {
                for index in 0..<count {
                    let v = value(samples[index])
                    output[index] = UInt32(bitPattern: v &- low) <= span ? paddingValue : hounsfield(v)
                }
            } else {
                for index in 0..<count { output[index] = hounsfield(value(samples[index])) }
            }
        }
        @inline(__always) func signed(_ word: UInt16) -> Int32 { Int32(bitPattern: UInt32(word) &<< up) &>> Int32(down) }
        @inline(__always) func unsigned(_ word: UInt16) -> Int32 { Int32(bitPattern: (UInt32(word) &<< up) &>> down) }
        @inline(__always) func exact(_ v: Int32) -> Float { Float(v) + offset }
        @inline(__always) func rescaled(_ v: Int32) -> Float { Float(Double(v) * slope + intercept) }
        switch (isSigned, exactInFloat) {
        case (true, true): run(signed, exact)
        case (true, false): run(signed, rescaled)
        case (false, true): run(unsigned, exact)
        case (false, false): run(unsigned, rescaled)
        }
    }

    /// The definition: one sample at a time, every case. The fast paths above must give exactly its values.
    func convertGeneric<Word: FixedWidthInteger & UnsignedInteger>(
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
