// Opening DICOM objects from files and memory, and reading attributes by path.
#include "internal/hf_internal.hpp"

#include <dcmtk/dcmdata/dcistrmb.h>

#include <cerrno>
#include <cstring>
#include <limits>

namespace {

/// What the first bytes of an object say about it.
enum class Sniff { preamble, bareDataSet, notDICOM, tooShort };

/// A DICOM file either has a 128-byte preamble and "DICM", or (older files, network dumps) starts directly with a
/// group 0002 or 0008 tag in little or big endian. Anything else is not handed to the parser: DCMTK's auto-detection
/// will otherwise read arbitrary bytes as a data set of garbage elements.
Sniff sniff(const uint8_t *bytes, size_t length) {
    if (length >= 132 && std::memcmp(bytes + 128, "DICM", 4) == 0) return Sniff::preamble;
    if (length < 8) return Sniff::tooShort;
    const uint16_t littleGroup = uint16_t(bytes[0] | (bytes[1] << 8));
    const uint16_t bigGroup = uint16_t((bytes[0] << 8) | bytes[1]);
    const bool plausible = littleGroup == 0x0002 || littleGroup == 0x0008 || bigGroup == 0x0002 ||
                           bigGroup == 0x0008;
    return plausible ? Sniff::bareDataSet : Sniff::notDICOM;
}

hf_status finishOpen(hf_dataset *dataset, OFCondition condition, Sniff kind, const char *what, hf_error *error) {
    if (condition.bad()) {
        return hf::fail(error, HF_ERR_PARSE, "cannot parse %s: %s", what, condition.text());
    }
    dataset->hasPreamble = kind == Sniff::preamble;
    DcmDataset *data = dataset->file.getDataset();
    const E_TransferSyntax xfer = data->getOriginalXfer();
    if (xfer != EXS_Unknown) {
        dataset->transferSyntax = DcmXfer(xfer).getXferID();
    }
    if (data->card() == 0) {
        return hf::fail(error, HF_ERR_PARSE, "%s holds no data elements", what);
    }
    return HF_OK;
}

DcmTagKey key(uint32_t tag) { return DcmTagKey(Uint16(tag >> 16), Uint16(tag & 0xFFFF)); }

/// Walks `tag, item, tag, item, …` down to the item that holds the last tag of the path.
DcmItem *itemHolding(const hf_dataset *dataset, const uint32_t *path, int length) {
    if (dataset == nullptr || path == nullptr || length < 1 || length % 2 == 0) return nullptr;
    auto &file = const_cast<DcmFileFormat &>(dataset->file);
    DcmItem *item = (path[0] >> 16) == 0x0002 ? static_cast<DcmItem *>(file.getMetaInfo())
                                              : static_cast<DcmItem *>(file.getDataset());
    for (int index = 0; index + 1 < length; index += 2) {
        DcmItem *next = nullptr;
        if (item->findAndGetSequenceItem(key(path[index]), next, int(path[index + 1])).bad() || next == nullptr) {
            return nullptr;
        }
        item = next;
    }
    return item;
}

DcmElement *element(const hf_dataset *dataset, const uint32_t *path, int length) {
    DcmItem *item = itemHolding(dataset, path, length);
    if (item == nullptr) return nullptr;
    DcmElement *found = nullptr;
    if (item->findAndGetElement(key(path[length - 1]), found).bad()) return nullptr;
    return found;
}

bool number(DcmElement *element, unsigned long position, double &value) {
    OFCondition status = EC_IllegalCall;
    switch (element->ident()) {
        case EVR_DS:
        case EVR_FD:
        case EVR_OD: {
            Float64 v = 0; status = element->getFloat64(v, position); value = v; break;
        }
        case EVR_FL:
        case EVR_OF: {
            Float32 v = 0; status = element->getFloat32(v, position); value = v; break;
        }
        case EVR_IS:
        case EVR_SL: {
            Sint32 v = 0; status = element->getSint32(v, position); value = v; break;
        }
        case EVR_UL: {
            Uint32 v = 0; status = element->getUint32(v, position); value = v; break;
        }
        case EVR_US:
        case EVR_xs:
        case EVR_lt: {
            Uint16 v = 0; status = element->getUint16(v, position); value = v; break;
        }
        case EVR_SS: {
            Sint16 v = 0; status = element->getSint16(v, position); value = v; break;
        }
        case EVR_AT: {
            DcmTagKey v; status = static_cast<DcmAttributeTag *>(element)->getTagVal(v, position);
            value = double((uint32_t(v.getGroup()) << 16) | v.getElement()); break;
        }
        default: break;
    }
    return status.good();
}

}  // namespace

extern "C" {

hf_status hf_dataset_open_file(const char *path, int header_only, hf_dataset **out, hf_error *error) {
    if (path == nullptr || out == nullptr) return hf::fail(error, HF_ERR_ARGUMENT, "no path given");
    *out = nullptr;
    uint8_t head[132];
    size_t headLength = 0;
    {
        FILE *file = std::fopen(path, "rb");
        if (file == nullptr) return hf::fail(error, HF_ERR_IO, "cannot open: %s", std::strerror(errno));
        headLength = std::fread(head, 1, sizeof(head), file);
        std::fclose(file);
    }
    const Sniff kind = sniff(head, headLength);
    if (headLength == 0) return hf::fail(error, HF_ERR_NOT_DICOM, "empty file (0 bytes)");
    if (kind == Sniff::tooShort) return hf::fail(error, HF_ERR_NOT_DICOM, "too short to be DICOM (%zu bytes)", headLength);
    if (kind == Sniff::notDICOM) {
        return hf::fail(error, HF_ERR_NOT_DICOM,
                        "no 'DICM' marker at byte 128, and the first bytes (%02x %02x %02x %02x) are not a group 0002 "
                        "or 0008 tag", head[0], head[1], head[2], head[3]);
    }
    hf::registerCodecs();
    auto dataset = std::make_unique<hf_dataset>();
    dataset->headerOnly = header_only != 0;
    OFCondition condition;
    try {
        if (dataset->headerOnly) {
            condition = dataset->file.loadFileUntilTag(path, EXS_Unknown, EGL_noChange, DCM_MaxReadLength,
                                                       ERM_autoDetect, DCM_PixelData);
        } else {
            condition = dataset->file.loadFile(path, EXS_Unknown, EGL_noChange,
                                               std::numeric_limits<Uint32>::max(), ERM_autoDetect);
        }
    } catch (const std::exception &exception) {
        return hf::fail(error, HF_ERR_PARSE, "cannot parse: %s", exception.what());
    }
    const hf_status status = finishOpen(dataset.get(), condition, kind, "file", error);
    if (status != HF_OK) return status;
    *out = dataset.release();
    return HF_OK;
}

hf_status hf_dataset_open_buffer(const void *bytes, size_t length, int header_only, hf_dataset **out,
                                 hf_error *error) {
    if (out == nullptr) return hf::fail(error, HF_ERR_ARGUMENT, "no output handle");
    *out = nullptr;
    if (bytes == nullptr || length == 0) return hf::fail(error, HF_ERR_NOT_DICOM, "empty buffer (0 bytes)");
    const Sniff kind = sniff(static_cast<const uint8_t *>(bytes), length);
    if (kind == Sniff::tooShort) return hf::fail(error, HF_ERR_NOT_DICOM, "too short to be DICOM (%zu bytes)", length);
    if (kind == Sniff::notDICOM) {
        return hf::fail(error, HF_ERR_NOT_DICOM, "not DICOM: no 'DICM' marker at byte 128 and no DICOM tag at the start");
    }
    hf::registerCodecs();
    auto dataset = std::make_unique<hf_dataset>();
    dataset->headerOnly = header_only != 0;
    OFCondition condition;
    try {
        // Everything is read into memory: a buffer stream cannot be reopened later for lazily loaded values.
        DcmInputBufferStream stream;
        stream.setBuffer(bytes, offile_off_t(length));
        stream.setEos();
        dataset->file.transferInit();
        if (dataset->headerOnly) {
            condition = dataset->file.readUntilTag(stream, EXS_Unknown, EGL_noChange,
                                                   std::numeric_limits<Uint32>::max(), DCM_PixelData);
        } else {
            condition = dataset->file.read(stream, EXS_Unknown, EGL_noChange, std::numeric_limits<Uint32>::max());
        }
        dataset->file.transferEnd();
        stream.releaseBuffer();
    } catch (const std::exception &exception) {
        return hf::fail(error, HF_ERR_PARSE, "cannot parse: %s", exception.what());
    }
    const hf_status status = finishOpen(dataset.get(), condition, kind, "buffer", error);
    if (status != HF_OK) return status;
    *out = dataset.release();
    return HF_OK;
}

void hf_dataset_close(hf_dataset *dataset) { delete dataset; }

int hf_dataset_has_preamble(const hf_dataset *dataset) { return dataset != nullptr && dataset->hasPreamble; }

const char *hf_dataset_transfer_syntax(const hf_dataset *dataset) {
    return dataset == nullptr ? "" : dataset->transferSyntax.c_str();
}

int hf_dataset_get_string(const hf_dataset *dataset, const uint32_t *path, int path_length, char *buffer,
                          int capacity) {
    DcmElement *found = element(dataset, path, path_length);
    if (found == nullptr || found->getLength() == 0) return -1;
    OFString value;
    if (found->getOFStringArray(value).bad()) return -1;
    size_t end = value.length();
    while (end > 0 && (value[end - 1] == ' ' || value[end - 1] == '\0')) --end;
    size_t begin = 0;
    while (begin < end && value[begin] == ' ') ++begin;
    if (end == begin) return -1;
    const size_t length = end - begin;
    if (buffer != nullptr && capacity > 0) {
        const size_t copied = length < size_t(capacity - 1) ? length : size_t(capacity - 1);
        std::memcpy(buffer, value.c_str() + begin, copied);
        buffer[copied] = '\0';
    }
    return int(length);
}

int hf_dataset_get_numbers(const hf_dataset *dataset, const uint32_t *path, int path_length, double *values,
                           int capacity) {
    DcmElement *found = element(dataset, path, path_length);
    if (found == nullptr || found->getLength() == 0) return -1;
    const unsigned long count = found->getVM();
    if (count == 0) return -1;
    for (unsigned long index = 0; index < count && index < (unsigned long)capacity; ++index) {
        double value = 0;
        if (!number(found, index, value)) return -1;
        values[index] = value;
    }
    return int(count);
}

int hf_dataset_item_count(const hf_dataset *dataset, const uint32_t *path, int path_length) {
    DcmItem *item = itemHolding(dataset, path, path_length);
    if (item == nullptr) return -1;
    DcmSequenceOfItems *sequence = nullptr;
    if (item->findAndGetSequence(key(path[path_length - 1]), sequence).bad() || sequence == nullptr) return -1;
    return int(sequence->card());
}

}  // extern "C"
