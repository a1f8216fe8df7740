// Lossless JPEG (ITU-T T.81 process 14, Huffman coded; DICOM 1.2.840.10008.1.2.4.57 and .70) for one grayscale
// frame of 9 to 16 bits: the transfer syntax most CT archives are stored in.
//
// Why our own: DCMTK decodes it with IJG's general lossless path, which spent 0.84 CPU-seconds on a 512×512×300
// series (2.8 ms a slice), more than half of a whole `hounsfield run`. The format needs far less: one Huffman code
// and a few extra bits per sample, plus a predictor from the left, upper and upper-left neighbours. This decoder
// looks up the code and its extra bits together in one table for the short codes that dominate CT images.
//
// It is deliberately narrow. It accepts exactly one component, precision 9–16, point transform 0, and restart
// intervals of whole rows, and it is strict: each interval must end where its samples end (then the next RSTn, or
// EOI after the last), and nothing may be read past the data. Anything else returns HF_ERR_UNSUPPORTED and the
// caller hands the frame to DCMTK, which then decides (and names the error when the data is bad). So the samples
// are DCMTK's wherever this decoder does not run, and equal to them (tests compare) where it does.
#include "internal/hf_internal.hpp"

#include <cstring>

namespace {

constexpr int lookupBits = 11;

/// One Huffman table (DC class, as lossless JPEG uses), with a lookup of the next `lookupBits` bits.
struct HuffmanTable {
    bool defined = false;
    /// Per lookahead value: 0 when the code is longer than `lookupBits` (slow path). Otherwise bits 0–4 hold how many
    /// bits to consume and bit 5 says whether `difference` is already complete (code and extra bits both fit);
    /// when it is not, bits 8–12 hold the code's SSSS and the extra bits are read after the code.
    uint16_t lookup[1 << lookupBits];
    int16_t difference[1 << lookupBits];
    // Canonical decoding for long codes (T.81 F.2.2.3): the largest code of each length, and where its values start.
    int32_t maxCode[18];
    int32_t valueOffset[17];
    uint8_t values[256];
};

/// The difference an SSSS category and its `ssss` extra bits stand for (T.81 H.1.2.2 and table H.2).
inline int32_t extend(uint32_t bits, int ssss) {
    if (ssss == 16) return 32768;
    return bits < (1u << (ssss - 1)) ? int32_t(bits) - (1 << ssss) + 1 : int32_t(bits);
}

bool buildTable(HuffmanTable &table, const uint8_t counts[16], const uint8_t *symbols, int total) {
    std::memset(table.lookup, 0, sizeof table.lookup);
    std::memset(table.difference, 0, sizeof table.difference);
    int code = 0, k = 0;
    for (int length = 1; length <= 16; ++length) {
        table.valueOffset[length] = k - code;
        for (int i = 0; i < counts[length - 1]; ++i, ++k, ++code) {
            const int ssss = symbols[k];
            if (ssss > 16) return false;  // not a lossless category
            if (code >= (1 << length)) return false;  // over-subscribed code lengths
            if (length <= lookupBits) {
                const int spare = lookupBits - length;
                for (int fill = 0; fill < (1 << spare); ++fill) {
                    const int index = (code << spare) | fill;
                    const int extra = ssss == 16 ? 0 : ssss;
                    if (length + extra <= lookupBits) {
                        const uint32_t bits = extra == 0 ? 0 : uint32_t(index >> (lookupBits - length - extra)) & ((1u << extra) - 1);
                        table.lookup[index] = uint16_t(length + extra) | 0x20;
                        table.difference[index] = int16_t(ssss == 0 ? 0 : (ssss == 16 ? -32768 : extend(bits, ssss)));
                    } else {
                        table.lookup[index] = uint16_t(length) | uint16_t(ssss << 8);
                    }
                }
            }
        }
        table.maxCode[length] = counts[length - 1] ? code - 1 : -1;
        code <<= 1;
    }
    table.maxCode[17] = 0x7FFFFFFF;
    if (k != total) return false;
    std::memcpy(table.values, symbols, size_t(total));
    table.defined = true;
    return true;
}

/// Reads the entropy-coded segment: removes stuffed zero bytes and stops in front of any marker.
struct BitReader {
    const uint8_t *data;
    const uint8_t *end;
    uint64_t buffer = 0;
    int count = 0;               ///< valid bits in `buffer`, left-aligned
    int padding = 0;             ///< zero bits added past a marker or the end: reading any of them is an error
    bool atMarker = false;

    void fill() {
        // Most of a segment has no 0xFF byte: then load the whole bytes that fit from one 8-byte word at once,
        // rather than one byte (and two tests) at a time. Stuffing, markers and the last bytes take the loop below.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (count <= 55 && !atMarker && end - data >= 8) {
            uint64_t word;
            std::memcpy(&word, data, 8);
            if (((~word - 0x0101010101010101ull) & word & 0x8080808080808080ull) == 0) {  // no byte is 0xFF
                const int whole = (63 - count) >> 3;  // 1–7 bytes, since count <= 55
                const uint64_t bytes = __builtin_bswap64(word);  // the first byte in the top bits
                buffer |= (bytes >> (64 - 8 * whole)) << (64 - 8 * whole - count);
                data += whole;
                count += 8 * whole;
                return;
            }
        }
#endif
        while (count <= 56) {
            uint32_t byte = 0;
            if (!atMarker && data < end) {
                byte = *data;
                if (byte == 0xFF) {
                    if (data + 1 < end && data[1] == 0x00) {
                        data += 2;
                    } else {
                        atMarker = true;  // a marker (or FF at the very end): feed zeros from here
                        byte = 0;
                        padding += 8;
                    }
                } else {
                    ++data;
                }
            } else {
                padding += 8;
            }
            buffer |= uint64_t(byte) << (56 - count);
            count += 8;
        }
    }
    __attribute__((always_inline)) inline uint32_t peek(int bits) {
        if (count < bits) fill();
        return uint32_t(buffer >> (64 - bits));
    }
    inline void skip(int bits) {
        buffer <<= bits;
        count -= bits;
    }
    inline uint32_t read(int bits) {
        if (bits == 0) return 0;
        const uint32_t value = peek(bits);
        skip(bits);
        return value;
    }
    /// True when more bits were consumed than the data held.
    bool overran() const { return count < padding; }
    /// True when what is left unread of the loaded data is at most the padding bits of the last byte read.
    bool endsAfterLastByte() const { return count >= padding && count - padding < 8; }
};

/// The next difference, or false on a code the table does not have.
__attribute__((always_inline)) inline bool decodeDifference(BitReader &bits, const HuffmanTable &table, int32_t &difference) {
    const uint32_t look = bits.peek(lookupBits);
    const uint16_t entry = table.lookup[look];
    if (entry & 0x20) {
        bits.skip(entry & 0x1F);
        difference = table.difference[look] == -32768 ? 32768 : table.difference[look];
        return true;
    }
    int ssss;
    if (entry != 0) {
        bits.skip(entry & 0x1F);
        ssss = entry >> 8;
    } else {
        // A code longer than the lookup: canonical decoding, one bit at a time from length lookupBits + 1.
        const uint32_t wide = bits.peek(16);
        int length = lookupBits + 1;
        int32_t code = int32_t(wide >> (16 - length));
        while (length <= 16 && code > table.maxCode[length]) {
            ++length;
            code = int32_t(wide >> (16 - length));
        }
        if (length > 16) return false;
        bits.skip(length);
        ssss = table.values[table.valueOffset[length] + code];
    }
    difference = ssss == 0 ? 0 : (ssss == 16 ? 32768 : extend(bits.read(ssss), ssss));
    return true;
}

inline uint16_t readBigEndian16(const uint8_t *bytes) { return uint16_t((bytes[0] << 8) | bytes[1]); }

/// Decodes rows [first, first + count) of the scan; row `first` starts the prediction over (from `initial`), as the
/// first row of a scan does.
template <int Predictor>
bool decodeRows(BitReader &reader, const HuffmanTable &table, uint16_t *out, uint32_t columns, uint32_t first,
                uint32_t count, int32_t initial) {
    // A local copy keeps the reader in registers; through the reference, every bit consumed was a store to memory.
    BitReader bits = reader;
    struct WriteBack {
        BitReader &to;
        const BitReader &from;
        ~WriteBack() { to = from; }
    } writeBack{reader, bits};
    for (uint32_t y = first; y < first + count; ++y) {
        uint16_t *row = out + size_t(y) * columns;
        int32_t difference;
        if (y == first) {
            // The first row: its first sample from the initial value, the rest from the left.
            if (!decodeDifference(bits, table, difference)) return false;
            row[0] = uint16_t((initial + difference) & 0xFFFF);
            for (uint32_t x = 1; x < columns; ++x) {
                if (!decodeDifference(bits, table, difference)) return false;
                row[x] = uint16_t((row[x - 1] + difference) & 0xFFFF);
            }
            continue;
        }
        const uint16_t *above = row - columns;
        if (!decodeDifference(bits, table, difference)) return false;
        row[0] = uint16_t((above[0] + difference) & 0xFFFF);
        for (uint32_t x = 1; x < columns; ++x) {
            if (!decodeDifference(bits, table, difference)) return false;
            const int32_t a = row[x - 1], b = above[x], c = above[x - 1];
            int32_t prediction;
            switch (Predictor) {  // T.81 table H.1; the shifts are arithmetic, as in IJG
            case 1: prediction = a; break;
            case 2: prediction = b; break;
            case 3: prediction = c; break;
            case 4: prediction = a + b - c; break;
            case 5: prediction = a + ((b - c) >> 1); break;
            case 6: prediction = b + ((a - c) >> 1); break;
            default: prediction = (a + b) >> 1; break;
            }
            row[x] = uint16_t((prediction + difference) & 0xFFFF);
        }
    }
    return true;
}

using RowDecoder = bool (*)(BitReader &, const HuffmanTable &, uint16_t *, uint32_t, uint32_t, uint32_t, int32_t);

}  // namespace

namespace hf {

hf_status decodeLosslessJPEG(const uint8_t *bytes, size_t length, uint32_t rows, uint32_t columns, uint16_t *out,
                             hf_error *error) {
    auto unsupported = [&](const char *why) { return fail(error, HF_ERR_UNSUPPORTED, "lossless JPEG: %s", why); };
    if (length < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8) return unsupported("no start-of-image marker");
    static thread_local HuffmanTable tables[4];
    for (auto &table : tables) table.defined = false;
    const uint8_t *p = bytes + 2;
    const uint8_t *const end = bytes + length;
    int precision = 0;
    uint8_t componentID = 0, tableIndex = 0;
    uint32_t restartInterval = 0;
    bool frameSeen = false;
    while (true) {
        // Markers may be preceded by fill bytes (FF FF …).
        if (end - p < 2 || p[0] != 0xFF) return unsupported("malformed marker segment");
        while (p < end && *p == 0xFF) ++p;
        if (p >= end) return unsupported("truncated before a marker");
        const uint8_t marker = *p++;
        if (marker == 0xD9) return unsupported("end of image before the scan");
        if (end - p < 2) return unsupported("truncated marker segment");
        const uint16_t segment = readBigEndian16(p);
        if (segment < 2 || size_t(end - p) < segment) return unsupported("marker segment longer than the data");
        const uint8_t *body = p + 2;
        const size_t bodyLength = segment - 2u;
        p += segment;
        switch (marker) {
        case 0xC3: {  // SOF3: lossless, Huffman
            if (bodyLength < 9 || frameSeen) return unsupported("bad or repeated frame header");
            precision = body[0];
            const uint32_t height = readBigEndian16(body + 1), width = readBigEndian16(body + 3);
            if (body[5] != 1) return unsupported("more than one component");
            if (precision < 9 || precision > 16) return unsupported("precision outside 9–16 bits");
            if (height != rows || width != columns) return unsupported("frame size differs from the DICOM header");
            componentID = body[6];
            frameSeen = true;
            break;
        }
        case 0xC4: {  // DHT: one or more tables
            size_t offset = 0;
            while (offset < bodyLength) {
                if (bodyLength - offset < 17) return unsupported("truncated Huffman table");
                const uint8_t classAndIndex = body[offset];
                const uint8_t *counts = body + offset + 1;
                int total = 0;
                for (int i = 0; i < 16; ++i) total += counts[i];
                if (bodyLength - offset - 17 < size_t(total) || (classAndIndex >> 4) != 0 || (classAndIndex & 0x0F) > 3) {
                    return unsupported("Huffman table not for lossless use");
                }
                if (!buildTable(tables[classAndIndex & 0x0F], counts, body + offset + 17, total)) {
                    return unsupported("invalid Huffman table");
                }
                offset += 17 + size_t(total);
            }
            break;
        }
        case 0xDD:  // DRI
            if (bodyLength != 2) return unsupported("bad restart interval");
            restartInterval = readBigEndian16(body);
            break;
        case 0xDA: {  // SOS
            if (!frameSeen) return unsupported("scan before the frame header");
            if (bodyLength != 6 || body[0] != 1 || body[1] != componentID) return unsupported("unexpected scan header");
            tableIndex = body[2] >> 4;
            const int predictor = body[3];
            const int pointTransform = body[5] & 0x0F;
            if (predictor < 1 || predictor > 7) return unsupported("predictor outside 1–7");
            if (pointTransform != 0) return unsupported("point transform");
            if (tableIndex > 3 || !tables[tableIndex].defined) return unsupported("scan uses an undefined Huffman table");
            // A restart interval counts samples here (one component: an MCU is one sample). Intervals of whole
            // rows are decoded (tested with the suite's own encoder, and DCMTK reads the same stream alike);
            // intervals that end mid-row are left to DCMTK.
            if (restartInterval % columns != 0) return unsupported("a restart interval that is not whole rows");
            static const RowDecoder decoders[8] = {nullptr, decodeRows<1>, decodeRows<2>, decodeRows<3>,
                                                   decodeRows<4>, decodeRows<5>, decodeRows<6>, decodeRows<7>};
            const uint32_t rowsPerInterval = restartInterval == 0 ? rows : restartInterval / columns;
            const int32_t initial = 1 << (precision - 1);
            BitReader bits{p, end};
            for (uint32_t first = 0, interval = 0; first < rows; first += rowsPerInterval, ++interval) {
                if (interval > 0) {
                    // The interval before must end within its last byte (then 1-bit padding) at marker RSTn,
                    // n = interval mod 8; the next one starts afresh after it, its prediction reset (T.81 H.1.2.1).
                    if (bits.overran() || !bits.endsAfterLastByte()) return unsupported("restart interval of the wrong length");
                    const uint8_t *marker = bits.data;
                    while (marker + 1 < end && marker[0] == 0xFF && marker[1] == 0xFF) ++marker;
                    if (marker + 1 >= end || marker[0] != 0xFF || marker[1] != 0xD0 + ((interval - 1) & 7)) {
                        return unsupported("restart marker missing or out of order");
                    }
                    bits = BitReader{marker + 2, end};
                }
                const uint32_t count = rows - first < rowsPerInterval ? rows - first : rowsPerInterval;
                if (!decoders[predictor](bits, tables[tableIndex], out, columns, first, count, initial)) {
                    return unsupported("a code the Huffman table does not have");
                }
            }
            if (bits.overran()) return unsupported("the data ends before the last sample");
            if (!bits.endsAfterLastByte()) return unsupported("more data after the last sample");
            // Only EOI may follow (after the padding bits of the last byte).
            const uint8_t *tail = bits.data;
            while (tail < end && *tail == 0xFF && tail + 1 < end && tail[1] == 0xFF) ++tail;
            if (tail + 1 >= end || tail[0] != 0xFF || tail[1] != 0xD9) return unsupported("more data after the last sample");
            return HF_OK;
        }
        case 0xC0: case 0xC1: case 0xC2: case 0xC5: case 0xC6: case 0xC7: case 0xC9: case 0xCA: case 0xCB:
        case 0xCD: case 0xCE: case 0xCF: case 0xDC: case 0xDE: case 0xDF:
            return unsupported("not a plain lossless Huffman frame");
        default:  // APPn, COM and the like: skipped
            break;
        }
    }
}

}  // namespace hf
