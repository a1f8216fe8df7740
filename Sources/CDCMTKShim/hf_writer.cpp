// Writing DICOM files: used to make synthetic series for tests, demos and benchmarks.
#include "internal/hf_internal.hpp"

#include <dcmtk/dcmdata/dcrlerp.h>
#include <dcmtk/dcmjpeg/djrplol.h>
#include <dcmtk/dcmjpls/djrparam.h>

struct hf_writer {
    DcmFileFormat file;
    uint32_t rows = 0;
    uint32_t columns = 0;
    uint32_t frames = 0;
};

namespace {

DcmTagKey key(uint32_t tag) { return DcmTagKey(Uint16(tag >> 16), Uint16(tag & 0xFFFF)); }

/// Replaces uncompressed Pixel Data with JPEG 2000 lossless frames encoded by OpenJPEG.
hf_status encodeJPEG2000Frames(hf_writer *writer, hf_error *error) {
    DcmDataset *data = writer->file.getDataset();
    const Uint16 *pixels = nullptr;
    if (data->findAndGetUint16Array(DCM_PixelData, pixels).bad() || pixels == nullptr) {
        return hf::fail(error, HF_ERR_NO_PIXELS, "no 16-bit Pixel Data to encode");
    }
    Uint16 bitsStored = 16, representation = 0;
    data->findAndGetUint16(DCM_BitsStored, bitsStored);
    data->findAndGetUint16(DCM_PixelRepresentation, representation);

    auto *sequence = new DcmPixelSequence(DcmTag(DCM_PixelData, EVR_OB));
    auto *offsetTable = new DcmPixelItem(DcmTag(DCM_Item, EVR_OB));
    sequence->insert(offsetTable);
    DcmOffsetList offsets;
    const size_t frameSamples = size_t(writer->rows) * writer->columns;
    std::vector<uint8_t> codestream;
    for (uint32_t frame = 0; frame < writer->frames; ++frame) {
        const hf_status status = hf::encodeJPEG2000(pixels + frame * frameSamples, writer->rows, writer->columns,
                                                    bitsStored, representation == 1, codestream, error);
        if (status != HF_OK) {
            delete sequence;
            return status;
        }
        sequence->storeCompressedFrame(offsets, codestream.data(), Uint32(codestream.size()), 0);
    }
    if (writer->frames > 1) offsetTable->createOffsetTable(offsets);
    auto *pixelData = new DcmPixelData(DCM_PixelData);
    pixelData->putOriginalRepresentation(EXS_JPEG2000LosslessOnly, nullptr, sequence);
    data->insert(pixelData, OFTrue);
    return HF_OK;
}

/// Inserts (or replaces) a numeric element with an explicit VR: the dictionary's "xs" VR of attributes such as
/// PixelPaddingValue would otherwise leave the choice between US and SS to DCMTK.
template <typename Element, typename Put>
hf_status insertNumber(hf_writer *writer, uint32_t tag, DcmEVR vr, hf_error *error, Put put) {
    if (writer == nullptr) return hf::fail(error, HF_ERR_ARGUMENT, "missing writer");
    auto *element = new Element(DcmTag(key(tag), vr));
    if (put(*element).bad() || writer->file.getDataset()->insert(element, OFTrue).bad()) {
        delete element;
        return hf::fail(error, HF_ERR_ARGUMENT, "cannot set (%04X,%04X)", tag >> 16, tag & 0xFFFF);
    }
    return HF_OK;
}

}  // namespace

extern "C" {

hf_writer *hf_writer_create(void) {
    hf::registerCodecs();
    return new hf_writer();
}

void hf_writer_free(hf_writer *writer) { delete writer; }

hf_status hf_writer_put_string(hf_writer *writer, uint32_t tag, const char *value, hf_error *error) {
    if (writer == nullptr || value == nullptr) return hf::fail(error, HF_ERR_ARGUMENT, "missing argument");
    const OFCondition condition = writer->file.getDataset()->putAndInsertString(DcmTag(key(tag)), value);
    if (condition.bad()) {
        return hf::fail(error, HF_ERR_ARGUMENT, "cannot set (%04X,%04X) to '%s': %s", tag >> 16, tag & 0xFFFF,
                        value, condition.text());
    }
    return HF_OK;
}

hf_status hf_writer_put_uint16(hf_writer *writer, uint32_t tag, uint16_t value, hf_error *error) {
    return insertNumber<DcmUnsignedShort>(writer, tag, EVR_US, error,
                                          [value](DcmUnsignedShort &element) { return element.putUint16(value); });
}

hf_status hf_writer_put_int16(hf_writer *writer, uint32_t tag, int16_t value, hf_error *error) {
    return insertNumber<DcmSignedShort>(writer, tag, EVR_SS, error,
                                        [value](DcmSignedShort &element) { return element.putSint16(value); });
}

hf_status hf_writer_put_pixels16(hf_writer *writer, const uint16_t *pixels, uint32_t rows, uint32_t columns,
                                 uint32_t frames, hf_error *error) {
    if (writer == nullptr || pixels == nullptr || rows == 0 || columns == 0 || frames == 0) {
        return hf::fail(error, HF_ERR_ARGUMENT, "missing pixels or zero size");
    }
    writer->rows = rows;
    writer->columns = columns;
    writer->frames = frames;
    const unsigned long count = (unsigned long)rows * columns * frames;
    if (writer->file.getDataset()->putAndInsertUint16Array(DCM_PixelData, pixels, count).bad()) {
        return hf::fail(error, HF_ERR_ARGUMENT, "cannot store %lu samples of Pixel Data", count);
    }
    return HF_OK;
}

hf_status hf_writer_save(hf_writer *writer, const char *path, const char *transfer_syntax_uid, hf_error *error) {
    if (writer == nullptr || path == nullptr || transfer_syntax_uid == nullptr) {
        return hf::fail(error, HF_ERR_ARGUMENT, "missing argument");
    }
    const E_TransferSyntax xfer = DcmXfer(transfer_syntax_uid).getXfer();
    if (xfer == EXS_Unknown) return hf::fail(error, HF_ERR_ARGUMENT, "unknown transfer syntax %s", transfer_syntax_uid);
    try {
        DcmDataset *data = writer->file.getDataset();
        if (xfer == EXS_JPEG2000LosslessOnly) {
            const hf_status status = encodeJPEG2000Frames(writer, error);
            if (status != HF_OK) return status;
        } else if (DcmXfer(xfer).isEncapsulated()) {
            DJ_RPLossless jpegLossless;
            DJLSRepresentationParameter jpegLS(0, OFTrue);
            DcmRLERepresentationParameter rle;
            const DcmRepresentationParameter *parameter = nullptr;
            if (xfer == EXS_JPEGProcess14SV1 || xfer == EXS_JPEGProcess14) parameter = &jpegLossless;
            else if (xfer == EXS_JPEGLSLossless) parameter = &jpegLS;
            else if (xfer == EXS_RLELossless) parameter = &rle;
            else return hf::fail(error, HF_ERR_UNSUPPORTED, "writing %s is not supported", DcmXfer(xfer).getXferName());
            const OFCondition condition = data->chooseRepresentation(xfer, parameter);
            if (condition.bad() || !data->canWriteXfer(xfer)) {
                return hf::fail(error, HF_ERR_CODEC, "cannot encode %s: %s", DcmXfer(xfer).getXferName(),
                                condition.bad() ? condition.text() : "encoder refused");
            }
        }
        const OFCondition saved = writer->file.saveFile(path, xfer, EET_ExplicitLength, EGL_recalcGL);
        if (saved.bad()) return hf::fail(error, HF_ERR_IO, "cannot write %s: %s", path, saved.text());
    } catch (const std::exception &exception) {
        return hf::fail(error, HF_ERR_CODEC, "writing failed: %s", exception.what());
    }
    return HF_OK;
}

}  // extern "C"
