import Foundation

/// A small lossless JPEG encoder (T.81 process 14, one component), written for tests only: it makes what no encoder
/// on the test machine writes, restart intervals, so that the decoder's handling of them can be checked against
/// the known samples and against DCMTK (`dcmdjpeg`).
struct LosslessJPEGEncoder {
    var precision: Int
    var predictor: Int
    /// Rows per restart interval; 0 for none.
    var restartRows: Int

    /// Code lengths of SSSS 0…16: short and long codes both, so that a decoder's fast and slow paths both run.
    static let codeLengths = [4, 4, 3, 3, 3, 3, 4, 5, 6, 7, 8, 10, 12, 13, 14, 15, 15]

    func encode(_ samples: [UInt16], rows: Int, columns: Int) -> [UInt8] {
        var out: [UInt8] = [0xFF, 0xD8]
        func segment(_ marker: UInt8, _ body: [UInt8]) {
            out += [0xFF, marker, UInt8((body.count + 2) >> 8), UInt8((body.count + 2) & 0xFF)] + body
        }
        func be16(_ value: Int) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
        segment(0xC3, [UInt8(precision)] + be16(rows) + be16(columns) + [1, 1, 0x11, 0])
        // Canonical codes from the lengths (T.81 annex C): symbols ordered by length, then by value.
        let symbols = (0...16).sorted { (Self.codeLengths[$0], $0) < (Self.codeLengths[$1], $1) }
        var counts = [UInt8](repeating: 0, count: 16)
        for symbol in symbols { counts[Self.codeLengths[symbol] - 1] += 1 }
        var codes = [Int](repeating: 0, count: 17)
        var code = 0, length = Self.codeLengths[symbols[0]]
        for symbol in symbols {
            code <<= Self.codeLengths[symbol] - length
            length = Self.codeLengths[symbol]
            codes[symbol] = code
            code += 1
        }
        segment(0xC4, [0x00] + counts + symbols.map(UInt8.init))
        if restartRows > 0 { segment(0xDD, be16(restartRows * columns)) }
        segment(0xDA, [1, 1, 0x00, UInt8(predictor), 0, 0])

        var bits = BitWriter()
        let modulus = 1 << 16, initial = 1 << (precision - 1)
        let intervalRows = restartRows > 0 ? restartRows : rows
        for y in 0..<rows {
            let first = y % intervalRows == 0
            if first && y > 0 {
                bits.padToByte()
                out += bits.take()
                out += [0xFF, 0xD0 + UInt8((y / intervalRows - 1) & 7)]
            }
            for x in 0..<columns {
                let sample = Int(samples[y * columns + x])
                let a = x > 0 ? Int(samples[y * columns + x - 1]) : 0
                let b = y > 0 ? Int(samples[(y - 1) * columns + x]) : 0
                let c = x > 0 && y > 0 ? Int(samples[(y - 1) * columns + x - 1]) : 0
                let prediction: Int
                if first { prediction = x == 0 ? initial : a }
                else if x == 0 { prediction = b }
                else {
                    prediction = switch predictor {
                    case 1: a
                    case 2: b
                    case 3: c
                    case 4: a + b - c
                    case 5: a + ((b - c) >> 1)
                    case 6: b + ((a - c) >> 1)
                    default: (a + b) >> 1
                    }
                }
                // The difference modulo 2^16, as a value in −32767…32768 (T.81 H.1.2.2).
                var difference = ((sample - prediction) % modulus + modulus) % modulus
                if difference > 32768 { difference -= modulus }
                let ssss = difference == 0 ? 0 : Int.bitWidth - abs(difference).leadingZeroBitCount
                bits.write(codes[ssss], count: Self.codeLengths[ssss])
                if ssss > 0 && ssss < 16 {
                    bits.write((difference > 0 ? difference : difference - 1) & ((1 << ssss) - 1), count: ssss)
                }
            }
        }
        bits.padToByte()
        return out + bits.take() + [0xFF, 0xD9]
    }

    /// Entropy-coded bytes: most significant bit first, a 0x00 stuffed after every 0xFF, padding with 1-bits.
    struct BitWriter {
        private var bytes: [UInt8] = []
        private var accumulator = 0, pending = 0

        mutating func write(_ value: Int, count: Int) {
            for shift in stride(from: count - 1, through: 0, by: -1) {
                accumulator = accumulator << 1 | (value >> shift) & 1
                pending += 1
                if pending == 8 {
                    bytes.append(UInt8(accumulator))
                    if accumulator == 0xFF { bytes.append(0) }
                    accumulator = 0
                    pending = 0
                }
            }
        }

        mutating func padToByte() { if pending > 0 { write((1 << (8 - pending)) - 1, count: 8 - pending) } }

        mutating func take() -> [UInt8] {
            defer { bytes = [] }
            return bytes
        }
    }
}
