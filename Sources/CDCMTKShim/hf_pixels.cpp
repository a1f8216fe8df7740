// Decoding Pixel Data into native-byte-order samples.
//
// DCMTK decodes uncompressed, deflated, RLE, JPEG (all IJG processes, 8/12/16 bit) and JPEG-LS data. Its free
// edition has no JPEG 2000 codec, so those frames go to OpenJPEG; 8-bit baseline JPEG goes to TurboJPEG, which is
// several times faster than IJG and gives the same samples with the accurate (ISLOW) inverse DCT; and 16-bit
// lossless JPEG goes to our own decoder (hf_lossless_jpeg.cpp) first, DCMTK taking any frame it declines.
#include "internal/hf_internal.hpp"

#include <atomic>
#include <cstring>

namespace {

std::atomic<uint64_t> losslessJPEGDecoded{0}, losslessJPEGDeclined{0};

bool isJPEG2000(E_TransferSyntax xfer) { return xfer == EXS_JPEG2000LosslessOnly || xfer == EXS_JPEG2000; }

uint32_t readLE32(const uint8_t *bytes) {
    return uint32_t(bytes[0]) | (uint32_t(bytes[1]) << 8) | (uint32_t(bytes[2]) << 16) | (uint32_t(bytes[3]) << 24);
}

/// Decodes every frame with our own codec (`decodeFrame`) into `dataset->decodedPixels`.
template <typename Decode>
hf_status decodeFramesOurselves(hf_dataset *dataset, const hf_pixel_layout &layout, size_t needed,
                                const uint8_t marker[2], Decode decodeFrame, hf_error *error) {
    std::vector<hf::FrameBytes> frames;
    const hf_status split = hf::encapsulatedFrames(dataset->file.getDataset(), layout.frames, marker, frames, error);
    if (split != HF_OK) return split;
    dataset->decodedPixels.assign(needed, 0);
    const size_t frameBytes = needed / layout.frames;
    for (uint32_t frame = 0; frame < layout.frames; ++frame) {
        const hf_status status = decodeFrame(frames[frame].bytes, dataset->decodedPixels.data() + frame * frameBytes);
        if (status != HF_OK) return status;
    }
    return HF_OK;
}

}  // namespace

namespace hf {

hf_status encapsulatedFrames(DcmDataset *data, uint32_t frameCount, const uint8_t startMarker[2],
                             std::vector<FrameBytes> &frames, hf_error *error) {
    DcmElement *element = nullptr;
    if (data->findAndGetElement(DCM_PixelData, element).bad() || element == nullptr) {
        return fail(error, HF_ERR_NO_PIXELS, "no Pixel Data (7FE0,0010) element");
    }
    auto *pixelData = static_cast<DcmPixelData *>(element);
    E_TransferSyntax original = EXS_Unknown;
    const DcmRepresentationParameter *parameter = nullptr;
    pixelData->getOriginalRepresentationKey(original, parameter);
    DcmPixelSequence *sequence = nullptr;
    if (pixelData->getEncapsulatedRepresentation(original, parameter, sequence).bad() || sequence == nullptr) {
        return fail(error, HF_ERR_NO_PIXELS, "the transfer syntax is compressed but Pixel Data is not encapsulated");
    }
    const unsigned long items = sequence->card();
    if (items < 2) return fail(error, HF_ERR_NO_PIXELS, "encapsulated Pixel Data holds no fragments");

    struct Fragment { Uint8 *bytes; Uint32 length; uint64_t offset; };
    std::vector<Fragment> fragments;
    uint64_t offset = 0;
    for (unsigned long index = 1; index < items; ++index) {
        DcmPixelItem *item = nullptr;
        Uint8 *bytes = nullptr;
        if (sequence->getItem(item, index).bad() || item == nullptr) {
            return fail(error, HF_ERR_NO_PIXELS, "cannot read fragment %lu of the encapsulated Pixel Data", index);
        }
        const Uint32 length = item->getLength();
        if (length > 0 && (item->getUint8Array(bytes).bad() || bytes == nullptr)) {
            return fail(error, HF_ERR_NO_PIXELS, "cannot read fragment %lu of the encapsulated Pixel Data", index);
        }
        fragments.push_back({bytes, length, offset});
        offset += 8 + uint64_t(length);
    }

    // Which fragment starts which frame: one frame takes everything; one fragment per frame; the Basic Offset
    // Table; or, failing those, fragments that begin with the codec's start-of-codestream marker.
    std::vector<size_t> starts;
    if (frameCount == 1) {
        starts = {0};
    } else if (fragments.size() == frameCount) {
        for (size_t index = 0; index < fragments.size(); ++index) starts.push_back(index);
    } else {
        DcmPixelItem *table = nullptr;
        Uint8 *tableBytes = nullptr;
        if (sequence->getItem(table, 0).good() && table->getLength() == 4 * frameCount &&
            table->getUint8Array(tableBytes).good() && tableBytes != nullptr) {
            size_t fragment = 0;
            for (uint32_t frame = 0; frame < frameCount; ++frame) {
                const uint64_t frameOffset = readLE32(tableBytes + 4 * frame);
                while (fragment < fragments.size() && fragments[fragment].offset < frameOffset) ++fragment;
                if (fragment == fragments.size() || fragments[fragment].offset != frameOffset) { starts.clear(); break; }
                starts.push_back(fragment);
            }
        }
        if (starts.size() != frameCount) {
            starts.clear();
            for (size_t index = 0; index < fragments.size(); ++index) {
                const Fragment &candidate = fragments[index];
                if (candidate.length >= 2 && candidate.bytes[0] == startMarker[0] && candidate.bytes[1] == startMarker[1]) {
                    starts.push_back(index);
                }
            }
        }
    }
    if (starts.size() != frameCount || starts.front() != 0) {
        return fail(error, HF_ERR_NO_PIXELS, "cannot split %zu fragments into %u frames", fragments.size(), frameCount);
    }
    frames.assign(frameCount, FrameBytes{});
    for (uint32_t frame = 0; frame < frameCount; ++frame) {
        const size_t end = frame + 1 < frameCount ? starts[frame + 1] : fragments.size();
        for (size_t index = starts[frame]; index < end; ++index) {
            frames[frame].bytes.insert(frames[frame].bytes.end(), fragments[index].bytes,
                                       fragments[index].bytes + fragments[index].length);
        }
    }
    return HF_OK;
}

}  // namespace hf

extern "C" hf_status hf_dataset_decode_pixels(hf_dataset *dataset, const hf_pixel_layout *layout,
                                              const void **pixels, size_t *length, hf_error *error) {
    if (dataset == nullptr || layout == nullptr || pixels == nullptr || length == nullptr) {
        return hf::fail(error, HF_ERR_ARGUMENT, "missing argument");
    }
    if (dataset->headerOnly) {
        return hf::fail(error, HF_ERR_ARGUMENT, "the object was opened header-only; reopen it to decode pixels");
    }
    if (layout->samples_per_pixel != 1) {
        return hf::fail(error, HF_ERR_UNSUPPORTED, "%u samples per pixel: only grayscale images form CT volumes",
                        layout->samples_per_pixel);
    }
    if (layout->bits_allocated != 8 && layout->bits_allocated != 16 && layout->bits_allocated != 32) {
        return hf::fail(error, HF_ERR_UNSUPPORTED, "BitsAllocated %u is not supported (8, 16 or 32)",
                        layout->bits_allocated);
    }
    if (layout->rows == 0 || layout->columns == 0 || layout->frames == 0) {
        return hf::fail(error, HF_ERR_NO_PIXELS, "the image size is %u×%u with %u frames", layout->columns,
                        layout->rows, layout->frames);
    }
    const size_t bytesPerSample = layout->bits_allocated / 8;
    const size_t needed = size_t(layout->rows) * layout->columns * layout->frames * bytesPerSample;

    try {
        DcmDataset *data = dataset->file.getDataset();
        DcmElement *element = nullptr;
        if (data->findAndGetElement(DCM_PixelData, element).bad() || element == nullptr) {
            return hf::fail(error, HF_ERR_NO_PIXELS, "no Pixel Data (7FE0,0010) element");
        }
        const E_TransferSyntax xfer = data->getOriginalXfer();
        const DcmXfer syntax(xfer);
        if (syntax.isEncapsulated() && isJPEG2000(xfer)) {
            if (bytesPerSample > 2) return hf::fail(error, HF_ERR_UNSUPPORTED, "32-bit JPEG 2000 is not supported");
            static const uint8_t marker[2] = {0xFF, 0x4F};
            const hf_status status = decodeFramesOurselves(
                dataset, *layout, needed, marker,
                [&](const std::vector<uint8_t> &bytes, uint8_t *out) {
                    return hf::decodeJPEG2000(bytes.data(), bytes.size(), layout->rows, layout->columns,
                                              uint32_t(bytesPerSample), out, error);
                },
                error);
            if (status != HF_OK) return status;
            *pixels = dataset->decodedPixels.data();
            *length = needed;
            return HF_OK;
        }
        if (syntax.isEncapsulated() && xfer == EXS_JPEGProcess1 && bytesPerSample == 1) {
            static const uint8_t marker[2] = {0xFF, 0xD8};
            const hf_status status = decodeFramesOurselves(
                dataset, *layout, needed, marker,
                [&](const std::vector<uint8_t> &bytes, uint8_t *out) {
                    return hf::decodeBaselineJPEG(bytes.data(), bytes.size(), layout->rows, layout->columns, out,
                                                  error);
                },
                error);
            if (status != HF_OK) return status;
            *pixels = dataset->decodedPixels.data();
            *length = needed;
            return HF_OK;
        }
        if (syntax.isEncapsulated() && (xfer == EXS_JPEGProcess14 || xfer == EXS_JPEGProcess14SV1) && bytesPerSample == 2) {
            // Our lossless decoder first (several times faster); any frame it does not take goes to DCMTK below.
            static const uint8_t marker[2] = {0xFF, 0xD8};
            const hf_status status = decodeFramesOurselves(
                dataset, *layout, needed, marker,
                [&](const std::vector<uint8_t> &bytes, uint8_t *out) {
                    return hf::decodeLosslessJPEG(bytes.data(), bytes.size(), layout->rows, layout->columns,
                                                  reinterpret_cast<uint16_t *>(out), error);
                },
                error);
            if (status == HF_OK) {
                losslessJPEGDecoded.fetch_add(layout->frames, std::memory_order_relaxed);
                *pixels = dataset->decodedPixels.data();
                *length = needed;
                return HF_OK;
            }
            losslessJPEGDeclined.fetch_add(layout->frames, std::memory_order_relaxed);
            std::vector<uint8_t>().swap(dataset->decodedPixels);
        }
        if (syntax.isEncapsulated()) {
            const OFCondition condition = data->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
            if (condition.bad() || !data->canWriteXfer(EXS_LittleEndianExplicit, xfer)) {
                return hf::fail(error, HF_ERR_CODEC, "cannot decompress %s: %s", syntax.getXferName(),
                                condition.bad() ? condition.text() : "no decoder for this transfer syntax");
            }
        } else if (bytesPerSample == 4 && syntax.isBigEndian()) {
            return hf::fail(error, HF_ERR_UNSUPPORTED, "32-bit samples in big endian are not supported");
        }
        const Uint8 *bytes = nullptr;
        if (element->ident() == EVR_OB || bytesPerSample == 1) {
            Uint8 *raw = nullptr;
            if (element->getUint8Array(raw).bad()) {
                Uint16 *words = nullptr;
                if (element->getUint16Array(words).bad()) {
                    return hf::fail(error, HF_ERR_NO_PIXELS, "cannot read Pixel Data");
                }
                raw = reinterpret_cast<Uint8 *>(words);
            }
            bytes = raw;
        } else {
            Uint16 *words = nullptr;
            if (element->getUint16Array(words).bad()) return hf::fail(error, HF_ERR_NO_PIXELS, "cannot read Pixel Data");
            bytes = reinterpret_cast<const Uint8 *>(words);
        }
        const size_t available = element->getLength();
        if (bytes == nullptr || available < needed) {
            return hf::fail(error, HF_ERR_NO_PIXELS,
                            "Pixel Data holds %zu bytes, but %u frame(s) of %u×%u %u-bit samples need %zu",
                            available, layout->frames, layout->columns, layout->rows, layout->bits_allocated, needed);
        }
        *pixels = bytes;
        *length = needed;
        return HF_OK;
    } catch (const std::exception &exception) {
        return hf::fail(error, HF_ERR_CODEC, "decoding failed: %s", exception.what());
    }
}

extern "C" hf_status hf_decode_lossless_jpeg_frame(const void *bytes, size_t length, uint32_t rows, uint32_t columns,
                                                   uint16_t *out, hf_error *error) {
    if (bytes == nullptr || out == nullptr) return hf::fail(error, HF_ERR_ARGUMENT, "missing argument");
    const hf_status status =
        hf::decodeLosslessJPEG(static_cast<const uint8_t *>(bytes), length, rows, columns, out, error);
    // A declined frame is counted when hf_dataset_decode_pixels hands it to DCMTK.
    if (status == HF_OK) losslessJPEGDecoded.fetch_add(1, std::memory_order_relaxed);
    return status;
}

extern "C" void hf_lossless_jpeg_counts(uint64_t *decoded, uint64_t *declined) {
    if (decoded != nullptr) *decoded = losslessJPEGDecoded.load(std::memory_order_relaxed);
    if (declined != nullptr) *declined = losslessJPEGDeclined.load(std::memory_order_relaxed);
}

extern "C" hf_status hf_dataset_stored_pixels(hf_dataset *dataset, const void **bytes, size_t *length,
                                              hf_error *error) {
    if (dataset == nullptr || bytes == nullptr || length == nullptr) {
        return hf::fail(error, HF_ERR_ARGUMENT, "missing argument");
    }
    if (dataset->headerOnly) {
        return hf::fail(error, HF_ERR_ARGUMENT, "the object was opened header-only; reopen it to read pixels");
    }
    try {
        DcmDataset *data = dataset->file.getDataset();
        if (DcmXfer(data->getOriginalXfer()).isEncapsulated()) {
            return hf::fail(error, HF_ERR_UNSUPPORTED, "compressed pixel data in a layout only stored bytes can hold");
        }
        DcmElement *element = nullptr;
        if (data->findAndGetElement(DCM_PixelData, element).bad() || element == nullptr) {
            return hf::fail(error, HF_ERR_NO_PIXELS, "no Pixel Data (7FE0,0010) element");
        }
        // OB gives bytes; OW gives words in the host's order (little endian here), the same bytes.
        Uint8 *octets = nullptr;
        Uint16 *words = nullptr;
        const void *values = nullptr;
        if (element->getUint8Array(octets).good() && octets != nullptr) {
            values = octets;
        } else if (element->getUint16Array(words).good() && words != nullptr) {
            values = words;
        } else {
            return hf::fail(error, HF_ERR_NO_PIXELS, "the Pixel Data (7FE0,0010) element holds no readable bytes");
        }
        *bytes = values;
        *length = element->getLength();
        return HF_OK;
    } catch (const std::exception &exception) {
        return hf::fail(error, HF_ERR_CODEC, "reading Pixel Data failed: %s", exception.what());
    }
}
