// Deflate that looks for runs only (zlib's Z_RLE strategy, written for speed): every match repeats the byte before
// it (distance 1). On shuffled float arrays that is the match a general LZ77 search mostly finds: a CT's byte planes
// are long runs where there is no body (air clipped to one value) and near-random bytes where there is, and a
// hash-chain search spends its time hashing the random bytes for matches that are not there. On 1 mm float32 CT
// slabs it compresses slightly better than ISA-L's level 1 (1.86 against 1.83) at about 1.5× its speed
// (docs/decisions.md 37); on int16 HU, whose low bytes have few runs, it is 2–4% larger. The output is a standard
// zlib stream: any inflater reads it.
//
// Each block of input becomes one deflate block: dynamic Huffman codes built from that block's own counts, or a
// stored block when that is smaller (incompressible data grows by 5 bytes per 64 KiB at most). The parse is the
// same with and without AVX2, so the same chunk gives the same bytes on every machine.

#include "hf_deflate_runs.h"

#include <libdeflate.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum {
    BLOCK_BYTES = 1 << 17,      // input per deflate block: adapts codes to local statistics, headers stay negligible
    MIN_RUN = 3,                // deflate's shortest match
    MAX_RUN = 258,              // and longest
    RUN_START = 5,              // the shortest run coded as a match: shorter ones cost about what their literals do,
                                // and each token costs time (5 instead of 3: plane 2 of the shuffle ~40% faster,
                                // the output 0.1% smaller)
    LITLEN_SYMBOLS = 286,       // 0–255 literals, 256 end of block, 257–285 lengths
    END_OF_BLOCK = 256,
    MAX_CODE_BITS = 15,
    MAX_LITLEN_BITS = 14,       // one bit short of deflate's limit, so four literals always fit between flushes
    CODELEN_SYMBOLS = 19,
    MAX_CODELEN_BITS = 7,
};

// ---- lengths ------------------------------------------------------------------------------------------------------
// Deflate codes a match length 3–258 as one of 29 symbols (257–285) plus up to 5 extra bits.

static const uint16_t length_base[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                                         35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t length_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
                                         3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static uint8_t length_slot[MAX_RUN + 1];  // length → index into the tables above

static void build_length_slots(void) {
    for (int slot = 0; slot < 29; slot++) {
        int end = slot == 28 ? MAX_RUN + 1 : length_base[slot + 1];
        for (int length = length_base[slot]; length < end; length++) length_slot[length] = (uint8_t)slot;
    }
}

// ---- Huffman code lengths -----------------------------------------------------------------------------------------

/// Sorts keys (frequency << 9 | symbol) ascending: a radix sort, because this runs once per block and a comparison
/// sort of 286 keys costs as much as coding a few thousand bytes.
static void sort_keys(uint32_t *keys, int n) {
    uint32_t scratch[LITLEN_SYMBOLS], *from = keys, *to = scratch;
    for (int shift = 0; shift < 32; shift += 8) {
        int count[256] = {0};
        for (int i = 0; i < n; i++) count[(from[i] >> shift) & 0xff]++;
        if (count[(from[0] >> shift) & 0xff] == n) continue;  // every key has the same digit here
        int position = 0;
        for (int d = 0; d < 256; d++) { int c = count[d]; count[d] = position; position += c; }
        for (int i = 0; i < n; i++) to[count[(from[i] >> shift) & 0xff]++] = from[i];
        uint32_t *t = from; from = to; to = t;
    }
    if (from != keys) memcpy(keys, from, (size_t)n * sizeof *keys);
}

/// Optimal code lengths for `n` ≥ 2 weights sorted ascending, computed in place (Moffat and Katajainen, "In-place
/// calculation of minimum-redundancy codes", 1995): on return `w[i]` is the length of the i-th lightest symbol.
static void minimum_redundancy_lengths(uint32_t *w, int n) {
    int root = 0, leaf = 2;
    w[0] += w[1];
    for (int next = 1; next < n - 1; next++) {
        if (leaf >= n || w[root] < w[leaf]) { w[next] = w[root]; w[root++] = (uint32_t)next; }
        else w[next] = w[leaf++];
        if (leaf >= n || (root < next && w[root] < w[leaf])) { w[next] += w[root]; w[root++] = (uint32_t)next; }
        else w[next] += w[leaf++];
    }
    w[n - 2] = 0;
    for (int next = n - 3; next >= 0; next--) w[next] = w[w[next]] + 1;
    int available = 1, used = 0, depth = 0, next = n - 1;
    root = n - 2;
    while (available > 0) {
        while (root >= 0 && w[root] == (uint32_t)depth) { used++; root--; }
        while (available > used) { w[next--] = (uint32_t)depth; available--; }
        available = 2 * used;
        depth++;
        used = 0;
    }
}

/// Code lengths no longer than `limit` for `count` symbols with the given frequencies (zero frequency → length 0).
/// Lengths over the limit are cut to it and the Kraft sum restored by lengthening the deepest shorter codes, then the
/// lengths are dealt out again lightest symbol longest, so the code stays complete and close to optimal.
static void build_lengths(const uint32_t *frequency, int count, int limit, uint8_t *length) {
    uint32_t used[LITLEN_SYMBOLS];  // frequency << 9 | symbol, lightest first after sorting
    int n = 0;
    memset(length, 0, (size_t)count);
    for (int s = 0; s < count; s++)
        if (frequency[s]) used[n++] = (frequency[s] > 0x7fffff ? 0x7fffffu : frequency[s]) << 9 | (uint32_t)s;
    if (n == 0) return;
    if (n == 1) {  // one symbol: deflate still needs a complete code, so pair it with a neighbour of length 1
        int s = (int)(used[0] & 0x1ff);
        length[s] = 1;
        length[s == 0 ? 1 : 0] = 1;
        return;
    }
    sort_keys(used, n);
    uint32_t w[LITLEN_SYMBOLS];
    for (int i = 0; i < n; i++) w[i] = used[i] >> 9;
    minimum_redundancy_lengths(w, n);

    int codes_of_length[33] = {0};
    for (int i = 0; i < n; i++) codes_of_length[w[i] > 32 ? 32 : w[i]]++;
    for (int bits = limit + 1; bits <= 32; bits++) { codes_of_length[limit] += codes_of_length[bits]; codes_of_length[bits] = 0; }
    uint32_t kraft = 0;  // in units of 2^-limit; complete when equal to 2^limit
    for (int bits = 1; bits <= limit; bits++) kraft += (uint32_t)codes_of_length[bits] << (limit - bits);
    while (kraft > (1u << limit)) {
        codes_of_length[limit]--;
        for (int bits = limit - 1; bits > 0; bits--)
            if (codes_of_length[bits]) { codes_of_length[bits]--; codes_of_length[bits + 1] += 2; break; }
        kraft--;
    }
    int i = 0;  // lightest first: they take the longest codes
    for (int bits = limit; bits >= 1; bits--)
        for (int k = 0; k < codes_of_length[bits]; k++) length[used[i++] & 0x1ff] = (uint8_t)bits;
}

/// Canonical codes for the lengths, bit-reversed because deflate sends Huffman codes first bit first and the bit
/// writer fills from the low end.
static const uint8_t reversed_byte[256] = {
#define R2(n) n, n + 2 * 64, n + 1 * 64, n + 3 * 64
#define R4(n) R2(n), R2(n + 2 * 16), R2(n + 1 * 16), R2(n + 3 * 16)
#define R6(n) R4(n), R4(n + 2 * 4), R4(n + 1 * 4), R4(n + 3 * 4)
    R6(0), R6(2), R6(1), R6(3)
#undef R2
#undef R4
#undef R6
};

static void build_codes(const uint8_t *length, int count, uint16_t *code) {
    int codes_of_length[MAX_CODE_BITS + 1] = {0};
    for (int s = 0; s < count; s++) codes_of_length[length[s]]++;
    codes_of_length[0] = 0;
    uint32_t next[MAX_CODE_BITS + 2];
    next[1] = 0;
    for (int bits = 2; bits <= MAX_CODE_BITS + 1; bits++) next[bits] = (next[bits - 1] + codes_of_length[bits - 1]) << 1;
    for (int s = 0; s < count; s++) {
        int bits = length[s];
        if (!bits) { code[s] = 0; continue; }
        uint32_t c = next[bits]++;
        code[s] = (uint16_t)(((uint32_t)reversed_byte[c & 0xff] << 8 | reversed_byte[c >> 8]) >> (16 - bits));
    }
}

// ---- bit writer -----------------------------------------------------------------------------------------------------
// Bits accumulate from the low end of a 64-bit word; `flush` stores all eight bytes and advances by the whole ones,
// so the caller keeps 8 bytes of slack at the end of the output (checked once per block).

typedef struct { uint8_t *next; uint64_t bits; unsigned count; } bit_writer;

static inline void put_bits(bit_writer *w, uint64_t value, unsigned count) {
    w->bits |= value << w->count;
    w->count += count;
}

static inline void flush_bits(bit_writer *w) {
    memcpy(w->next, &w->bits, 8);  // little-endian x86-64 and arm64
    unsigned whole = w->count >> 3;  // ≤ 7: callers flush before 64 bits
    w->next += whole;
    w->bits >>= whole * 8;
    w->count &= 7;
}

static void align_to_byte(bit_writer *w) {
    flush_bits(w);
    if (w->count) { w->next++; w->bits = 0; w->count = 0; }
}

// ---- one block ----------------------------------------------------------------------------------------------------

/// A block's parse: `literals[i]` literal bytes (read from the input), then a run of `runs[i]` bytes (0 for none).
typedef struct {
    uint32_t *literals;
    uint16_t *runs;
    size_t count;
    uint32_t litlen_frequency[LITLEN_SYMBOLS];
} block_parse;

/// The length of the run of `byte` starting at `p`, at most `limit`.
static inline size_t run_length(const uint8_t *p, size_t limit, uint8_t byte) {
    uint64_t pattern = 0x0101010101010101ull * byte;
    size_t n = 0;
    while (n + 8 <= limit) {
        uint64_t word;
        memcpy(&word, p + n, 8);
        uint64_t diff = word ^ pattern;
        if (diff) return n + ((size_t)__builtin_ctzll(diff) >> 3);
        n += 8;
    }
    while (n < limit && p[n] == byte) n++;
    return n;
}

/// Counts every fourth byte of `p[0..<n)` into the literal counts (four tables, so equal bytes do not wait on each
/// other). A sample is enough to shape the code: counting every byte cost an eighth of the encoder's time for 0.2% of
/// output size, and every literal gets a code anyway (`parse_block`).
static inline void sample_literals(const uint8_t *p, size_t n, uint32_t counts[4][256]) {
    size_t k = 0;
    for (; k + 16 <= n; k += 16) { counts[0][p[k]]++; counts[1][p[k + 5]]++; counts[2][p[k + 10]]++; counts[3][p[k + 15]]++; }
    for (; k < n; k += 4) counts[0][p[k]]++;
}

#if defined(__x86_64__)
#include <immintrin.h>
/// Bit j set when `p[j]` equals `p[j-1]`, for j in 0..<64 (reads p[-1] ... p[63]).
__attribute__((target("avx2")))
static inline uint64_t repeats_avx2(const uint8_t *p) {
    __m256i a0 = _mm256_loadu_si256((const __m256i *)p), b0 = _mm256_loadu_si256((const __m256i *)(p - 1));
    __m256i a1 = _mm256_loadu_si256((const __m256i *)(p + 32)), b1 = _mm256_loadu_si256((const __m256i *)(p + 31));
    uint32_t low = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a0, b0));
    uint32_t high = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a1, b1));
    return (uint64_t)low | ((uint64_t)high << 32);
}
#endif

/// Where the next run starts in `src[i..<end)` (i ≥ 1): the first j where `RUN_START` bytes from j all equal
/// src[j-1], or `end` when there is none.
static inline size_t next_run(const uint8_t *src, size_t i, size_t end, int use_avx2) {
#if defined(__x86_64__)
    if (use_avx2) {
        while (i + 64 <= end) {
            uint64_t eq = repeats_avx2(src + i);
            uint64_t starts = eq;
            for (int r = 1; r < RUN_START; r++) starts &= eq >> r;
            starts &= (1ull << (65 - RUN_START)) - 1;  // positions whose whole run start lies in this window
            if (starts) return i + (size_t)__builtin_ctzll(starts);
            i += 65 - RUN_START;
        }
    }
#else
    (void)use_avx2;
#endif
    for (; i + RUN_START <= end; i++) {
        int run = 1;
        for (int r = 0; r < RUN_START && run; r++) run = src[i + r] == src[i - 1];
        if (run) return i;
    }
    return end;
}

/// Splits `src[start..<end)` into literals and runs (a run continues the byte before it, which may lie before
/// `start`) and counts the symbols: runs exactly, literals by sample, scaled up, plus one for every byte value so
/// that each has a code.
static void parse_block(const uint8_t *src, size_t start, size_t end, block_parse *parse, int use_avx2) {
    uint32_t *f = parse->litlen_frequency;
    memset(f, 0, sizeof parse->litlen_frequency);
    uint32_t counts[4][256];
    memset(counts, 0, sizeof counts);
    size_t n = 0, literal_start = start;
    size_t i = start == 0 ? 1 : start;  // the stream's first byte has nothing before it to repeat
    while (i < end) {
        i = next_run(src, i, end, use_avx2);
        if (i >= end) break;
        size_t run = run_length(src + i, end - i, src[i - 1]);
        size_t literal_count = i - literal_start;
        sample_literals(src + literal_start, literal_count, counts);
        i += run;
        while (run) {
            size_t piece = run > MAX_RUN ? MAX_RUN : run;
            if (run - piece > 0 && run - piece < MIN_RUN) piece = run - MIN_RUN;  // leave a rest that is a run too
            parse->literals[n] = (uint32_t)literal_count;
            parse->runs[n++] = (uint16_t)piece;
            f[257 + length_slot[piece]]++;
            literal_count = 0;
            run -= piece;
        }
        literal_start = i;
    }
    sample_literals(src + literal_start, end - literal_start, counts);
    parse->literals[n] = (uint32_t)(end - literal_start);
    parse->runs[n++] = 0;
    parse->count = n;
    for (int b = 0; b < 256; b++) f[b] = 4 * (counts[0][b] + counts[1][b] + counts[2][b] + counts[3][b]) + 1;
    f[END_OF_BLOCK] = 1;
}

/// The order in which the code-length code's lengths are sent (RFC 1951, 3.2.7).
static const uint8_t codelen_order[CODELEN_SYMBOLS] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

/// A dynamic block's header: the literal/length and distance code lengths, run-length coded with symbols 16–18.
typedef struct {
    uint8_t symbols[LITLEN_SYMBOLS + 2];   // code-length symbols
    uint8_t extra[LITLEN_SYMBOLS + 2];     // their extra-bit values
    int count, litlen_count;
    uint8_t codelen_length[CODELEN_SYMBOLS];
    uint16_t codelen_code[CODELEN_SYMBOLS];
    int codelen_count;                     // how many of `codelen_order` are sent (≥ 4)
    uint64_t bits;                         // the header's size in bits
} block_header;

static void build_header(const uint8_t *litlen_length, const uint8_t *distance_length, block_header *h) {
    uint8_t all[LITLEN_SYMBOLS + 2];
    int litlen_count = LITLEN_SYMBOLS;
    while (litlen_count > 257 && litlen_length[litlen_count - 1] == 0) litlen_count--;
    memcpy(all, litlen_length, (size_t)litlen_count);
    memcpy(all + litlen_count, distance_length, 2);
    int total = litlen_count + 2;
    uint32_t frequency[CODELEN_SYMBOLS] = {0};
    h->count = 0;
    h->litlen_count = litlen_count;
    for (int i = 0; i < total;) {
        uint8_t value = all[i];
        int repeat = 1;
        while (i + repeat < total && all[i + repeat] == value) repeat++;
        int left = repeat;
        if (value == 0) {
            while (left >= 11) { int r = left > 138 ? 138 : left; h->symbols[h->count] = 18; h->extra[h->count++] = (uint8_t)(r - 11); left -= r; }
            if (left >= 3) { h->symbols[h->count] = 17; h->extra[h->count++] = (uint8_t)(left - 3); left = 0; }
        } else {
            h->symbols[h->count] = value; h->extra[h->count++] = 0; left--;
            while (left >= 3) { int r = left > 6 ? 6 : left; h->symbols[h->count] = 16; h->extra[h->count++] = (uint8_t)(r - 3); left -= r; }
        }
        while (left-- > 0) { h->symbols[h->count] = value; h->extra[h->count++] = 0; }
        i += repeat;
    }
    for (int k = 0; k < h->count; k++) frequency[h->symbols[k]]++;
    build_lengths(frequency, CODELEN_SYMBOLS, MAX_CODELEN_BITS, h->codelen_length);
    build_codes(h->codelen_length, CODELEN_SYMBOLS, h->codelen_code);
    h->codelen_count = CODELEN_SYMBOLS;
    while (h->codelen_count > 4 && h->codelen_length[codelen_order[h->codelen_count - 1]] == 0) h->codelen_count--;
    static const uint8_t extra_bits[3] = {2, 3, 7};
    uint64_t bits = 3 + 5 + 5 + 4 + 3 * (uint64_t)h->codelen_count;
    for (int k = 0; k < h->count; k++)
        bits += h->codelen_length[h->symbols[k]] + (h->symbols[k] >= 16 ? extra_bits[h->symbols[k] - 16] : 0);
    h->bits = bits;
}

static void write_header(bit_writer *w, const block_header *h, int final) {
    static const uint8_t extra_bits[3] = {2, 3, 7};
    put_bits(w, (uint64_t)(final ? 1 : 0) | (2u << 1), 3);
    put_bits(w, (uint64_t)(h->litlen_count - 257), 5);
    put_bits(w, 2 - 1, 5);
    put_bits(w, (uint64_t)(h->codelen_count - 4), 4);
    flush_bits(w);
    for (int k = 0; k < h->codelen_count; k++) { put_bits(w, h->codelen_length[codelen_order[k]], 3); flush_bits(w); }
    for (int k = 0; k < h->count; k++) {
        uint8_t s = h->symbols[k];
        put_bits(w, h->codelen_code[s], h->codelen_length[s]);
        if (s >= 16) put_bits(w, h->extra[k], extra_bits[s - 16]);
        flush_bits(w);
    }
}

/// Writes `src[start..<end)` as stored blocks of at most 65535 bytes.
static void write_stored(bit_writer *w, const uint8_t *src, size_t start, size_t end, int final) {
    do {
        size_t n = end - start > 65535 ? 65535 : end - start;
        int last = final && start + n == end;
        put_bits(w, (uint64_t)last, 3);  // BTYPE 00
        align_to_byte(w);
        uint16_t len = (uint16_t)n, nlen = (uint16_t)~len;
        memcpy(w->next, &len, 2);
        memcpy(w->next + 2, &nlen, 2);
        memcpy(w->next + 4, src + start, n);
        w->next += 4 + n;
        start += n;
    } while (start < end);
}

/// Writes one dynamic block; returns 0, or -1 when the output would pass `limit` (the counts are sampled, so the
/// block's exact size is known only as it is written).
static int write_dynamic(bit_writer *out, const uint8_t *limit, const uint8_t *src, size_t start,
                         const block_parse *parse, const block_header *header, const uint8_t *length,
                         const uint16_t *code, int final) {
    // A local writer: the compiler keeps it in registers, where bytes stored through `out->next` could otherwise
    // alias it and force a reload after every flush.
    bit_writer local = *out, *w = &local;
    // the header: at most 288 code lengths of ≤ 14 bits and 19 × 3 bits
    if ((size_t)(limit - w->next) < 1024) return -1;
    write_header(w, header, final);
    uint64_t literal_code[256];
    uint8_t literal_length[256];
    for (int b = 0; b < 256; b++) {
        literal_code[b] = code[b];
        literal_length[b] = length[b];
    }
    const uint8_t *p = src + start;
    for (size_t t = 0; t < parse->count; t++) {
        size_t n = parse->literals[t], k = 0;
        if ((size_t)(limit - w->next) < 2 * n + 64) return -1;  // ≤ 14 bits a literal, then one run
        for (; k + 4 <= n; k += 4) {  // four codes of ≤ 14 bits fit beside the ≤ 7 bits a flush leaves
            put_bits(w, literal_code[p[k]], literal_length[p[k]]);
            put_bits(w, literal_code[p[k + 1]], literal_length[p[k + 1]]);
            put_bits(w, literal_code[p[k + 2]], literal_length[p[k + 2]]);
            put_bits(w, literal_code[p[k + 3]], literal_length[p[k + 3]]);
            flush_bits(w);
        }
        for (; k < n; k++) put_bits(w, literal_code[p[k]], literal_length[p[k]]);
        flush_bits(w);
        p += n;
        unsigned run = parse->runs[t];
        if (run) {
            int slot = length_slot[run];
            put_bits(w, code[257 + slot], length[257 + slot]);
            put_bits(w, run - length_base[slot], length_extra[slot]);
            put_bits(w, 0, 1);  // distance code 0 (distance 1), whose code is the single bit 0
            flush_bits(w);
            p += run;
        }
    }
    put_bits(w, code[END_OF_BLOCK], length[END_OF_BLOCK]);
    flush_bits(w);
    *out = local;
    return 0;
}

// ---- the stream ---------------------------------------------------------------------------------------------------

/// Where the block that starts at `start` ends. Blocks split each segment evenly and never cross a segment's end (the
/// last segment takes any rest): a shuffled chunk's byte planes have different statistics, and a block that
/// straddles two gets a code that fits neither.
static size_t block_end(size_t start, size_t bytes, size_t segment) {
    if (segment == 0 || segment > bytes) segment = bytes;  // one segment
    if (segment == 0) return bytes;                        // no input: one empty block
    size_t last = bytes / segment - 1;
    size_t index = start / segment < last ? start / segment : last;
    size_t segment_start = index * segment, segment_end = index == last ? bytes : segment_start + segment;
    size_t length = segment_end - segment_start;
    size_t blocks = (length + BLOCK_BYTES - 1) / BLOCK_BYTES;
    size_t stop = start + (blocks ? (length + blocks - 1) / blocks : 0);
    return stop > segment_end || segment_end - stop < 1024 ? segment_end : stop;
}

typedef struct {
    uint32_t literals[BLOCK_BYTES / MIN_RUN + 2];
    uint16_t runs[BLOCK_BYTES / MIN_RUN + 2];
} parse_storage;

static _Thread_local parse_storage *storage;

size_t hf_deflate_runs_zlib(const void *source, size_t bytes, size_t segment, void *destination, size_t capacity) {
    static pthread_once_t slots_built = PTHREAD_ONCE_INIT;
    pthread_once(&slots_built, build_length_slots);
    if (!storage) storage = malloc(sizeof *storage);
    if (!storage || capacity < 32) return 0;
#if defined(__x86_64__)
    const int use_avx2 = __builtin_cpu_supports("avx2");
#else
    const int use_avx2 = 0;
#endif
    const uint8_t *src = source;
    uint8_t *dst = destination;
    const uint8_t *limit = dst + capacity - 8 - 4;  // the bit writer's 8 bytes of slack, then the Adler-32
    dst[0] = 0x78;  // deflate, 32 KiB window
    dst[1] = 0x01;  // fastest compression, check bits
    bit_writer w = {dst + 2, 0, 0};
    block_parse parse;
    parse.literals = storage->literals;
    parse.runs = storage->runs;
    static const uint8_t distance_length[2] = {1, 1};  // codes 0 and 1: complete, only code 0 (distance 1) is used
    size_t start = 0;
    do {
        size_t stop = block_end(start, bytes, segment);
        int final = stop == bytes;
        parse_block(src, start, stop, &parse, use_avx2);
        uint8_t length[LITLEN_SYMBOLS];
        uint16_t code[LITLEN_SYMBOLS];
        build_lengths(parse.litlen_frequency, LITLEN_SYMBOLS, MAX_LITLEN_BITS, length);
        build_codes(length, LITLEN_SYMBOLS, code);
        block_header header;
        build_header(length, distance_length, &header);
        uint64_t estimated_bits = header.bits;  // from the sampled counts: for choosing the block type only
        for (int s = 0; s < LITLEN_SYMBOLS; s++) estimated_bits += (uint64_t)parse.litlen_frequency[s] * length[s];
        for (int slot = 0; slot < 29; slot++)
            estimated_bits += (uint64_t)parse.litlen_frequency[257 + slot] * (length_extra[slot] + 1u);
        size_t stored_bytes = (stop - start) + 5 * ((stop - start) / 65535 + 1) + 1;
        bit_writer before = w;
        int written = -1;
        if ((estimated_bits + 7) / 8 < stored_bytes)
            written = write_dynamic(&w, limit, src, start, &parse, &header, length, code, final);
        if (written != 0) {  // stored was smaller, or the estimate was wrong and the block did not fit
            w = before;
            if ((size_t)(limit - w.next) < stored_bytes + 8) return 0;
            write_stored(&w, src, start, stop, final);
        }
        start = stop;
    } while (start < bytes);
    align_to_byte(&w);
    uint32_t adler = libdeflate_adler32(1, src, bytes);
    uint8_t trailer[4] = {(uint8_t)(adler >> 24), (uint8_t)(adler >> 16), (uint8_t)(adler >> 8), (uint8_t)adler};
    memcpy(w.next, trailer, 4);
    return (size_t)(w.next + 4 - dst);
}
