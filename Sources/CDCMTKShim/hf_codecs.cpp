// JPEG 2000 through OpenJPEG and baseline JPEG through TurboJPEG, each on one frame held in memory.
#include "internal/hf_internal.hpp"

#include <openjpeg.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cstring>

namespace {

/// Read side of an in-memory OpenJPEG stream.
struct InputBytes {
    const uint8_t *bytes;
    size_t length;
    size_t offset;
};

/// Write side of an in-memory OpenJPEG stream (the encoder seeks back to patch marker lengths).
struct OutputBytes {
    std::vector<uint8_t> *bytes;
    size_t offset;
};

OPJ_SIZE_T readInput(void *buffer, OPJ_SIZE_T count, void *context) {
    auto *input = static_cast<InputBytes *>(context);
    if (input->offset >= input->length) return OPJ_SIZE_T(-1);
    const size_t n = std::min<size_t>(count, input->length - input->offset);
    std::memcpy(buffer, input->bytes + input->offset, n);
    input->offset += n;
    return n;
}

OPJ_OFF_T skipInput(OPJ_OFF_T count, void *context) {
    auto *input = static_cast<InputBytes *>(context);
    const OPJ_OFF_T target = std::clamp<OPJ_OFF_T>(OPJ_OFF_T(input->offset) + count, 0, OPJ_OFF_T(input->length));
    const OPJ_OFF_T moved = target - OPJ_OFF_T(input->offset);
    input->offset = size_t(target);
    return moved;
}

OPJ_BOOL seekInput(OPJ_OFF_T position, void *context) {
    auto *input = static_cast<InputBytes *>(context);
    if (position < 0 || size_t(position) > input->length) return OPJ_FALSE;
    input->offset = size_t(position);
    return OPJ_TRUE;
}

OPJ_SIZE_T writeOutput(void *buffer, OPJ_SIZE_T count, void *context) {
    auto *output = static_cast<OutputBytes *>(context);
    if (output->bytes->size() < output->offset + count) output->bytes->resize(output->offset + count);
    std::memcpy(output->bytes->data() + output->offset, buffer, count);
    output->offset += count;
    return count;
}

OPJ_OFF_T skipOutput(OPJ_OFF_T count, void *context) {
    auto *output = static_cast<OutputBytes *>(context);
    output->offset = size_t(std::max<OPJ_OFF_T>(0, OPJ_OFF_T(output->offset) + count));
    if (output->bytes->size() < output->offset) output->bytes->resize(output->offset);
    return count;
}

OPJ_BOOL seekOutput(OPJ_OFF_T position, void *context) {
    auto *output = static_cast<OutputBytes *>(context);
    if (position < 0) return OPJ_FALSE;
    output->offset = size_t(position);
    if (output->bytes->size() < output->offset) output->bytes->resize(output->offset);
    return OPJ_TRUE;
}

void keepMessage(const char *message, void *context) {
    auto *text = static_cast<std::string *>(context);
    if (text->empty() && message != nullptr) {
        *text = message;
        while (!text->empty() && (text->back() == '\n' || text->back() == ' ')) text->pop_back();
    }
}

/// Owns the OpenJPEG objects of one call and frees them on every path.
struct OpenJPEGCall {
    opj_codec_t *codec = nullptr;
    opj_stream_t *stream = nullptr;
    opj_image_t *image = nullptr;
    std::string message;
    ~OpenJPEGCall() {
        if (image != nullptr) opj_image_destroy(image);
        if (stream != nullptr) opj_stream_destroy(stream);
        if (codec != nullptr) opj_destroy_codec(codec);
    }
    const char *reason() const { return message.empty() ? "no detail given by OpenJPEG" : message.c_str(); }
};

}  // namespace

namespace hf {

hf_status decodeJPEG2000(const uint8_t *bytes, size_t length, uint32_t rows, uint32_t columns,
                         uint32_t bytesPerSample, uint8_t *out, hf_error *error) {
    if (length < 12) return fail(error, HF_ERR_CODEC, "JPEG 2000 frame is only %zu bytes", length);
    const bool isJP2 = std::memcmp(bytes + 4, "jP  ", 4) == 0;
    OpenJPEGCall call;
    call.codec = opj_create_decompress(isJP2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
    opj_set_error_handler(call.codec, keepMessage, &call.message);
    opj_dparameters_t parameters;
    opj_set_default_decoder_parameters(&parameters);
    if (!opj_setup_decoder(call.codec, &parameters)) return fail(error, HF_ERR_CODEC, "OpenJPEG setup failed");

    InputBytes input{bytes, length, 0};
    call.stream = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_TRUE);
    opj_stream_set_user_data(call.stream, &input, nullptr);
    opj_stream_set_user_data_length(call.stream, length);
    opj_stream_set_read_function(call.stream, readInput);
    opj_stream_set_skip_function(call.stream, skipInput);
    opj_stream_set_seek_function(call.stream, seekInput);

    if (!opj_read_header(call.stream, call.codec, &call.image) || call.image == nullptr) {
        return fail(error, HF_ERR_CODEC, "JPEG 2000 header is invalid: %s", call.reason());
    }
    if (!opj_decode(call.codec, call.stream, call.image) || !opj_end_decompress(call.codec, call.stream)) {
        return fail(error, HF_ERR_CODEC, "JPEG 2000 decoding failed: %s", call.reason());
    }
    if (call.image->numcomps != 1) {
        return fail(error, HF_ERR_UNSUPPORTED, "JPEG 2000 frame has %u components; grayscale needs 1",
                    call.image->numcomps);
    }
    const opj_image_comp_t &component = call.image->comps[0];
    if (component.w != columns || component.h != rows || component.data == nullptr) {
        return fail(error, HF_ERR_CODEC, "JPEG 2000 frame is %u×%u but the header says %u×%u", component.w,
                    component.h, columns, rows);
    }
    const size_t count = size_t(rows) * columns;
    if (bytesPerSample == 1) {
        for (size_t index = 0; index < count; ++index) out[index] = uint8_t(component.data[index]);
    } else {
        auto *samples = reinterpret_cast<uint16_t *>(out);
        for (size_t index = 0; index < count; ++index) samples[index] = uint16_t(component.data[index]);
    }
    return HF_OK;
}

hf_status encodeJPEG2000(const uint16_t *pixels, uint32_t rows, uint32_t columns, uint32_t bitsStored,
                         bool isSigned, std::vector<uint8_t> &out, hf_error *error) {
    opj_cparameters_t parameters;
    opj_set_default_encoder_parameters(&parameters);
    parameters.tcp_numlayers = 1;
    parameters.tcp_rates[0] = 0;  // lossless
    parameters.cp_disto_alloc = 1;
    parameters.irreversible = 0;  // reversible 5/3 wavelet
    int resolutions = 6;
    while (resolutions > 1 && (1u << (resolutions - 1)) > std::min(rows, columns)) --resolutions;
    parameters.numresolution = resolutions;

    opj_image_cmptparm_t componentParameters;
    std::memset(&componentParameters, 0, sizeof(componentParameters));
    componentParameters.dx = 1;
    componentParameters.dy = 1;
    componentParameters.w = columns;
    componentParameters.h = rows;
    componentParameters.prec = bitsStored;
    componentParameters.sgnd = isSigned ? 1 : 0;

    OpenJPEGCall call;
    call.image = opj_image_create(1, &componentParameters, OPJ_CLRSPC_GRAY);
    if (call.image == nullptr) return fail(error, HF_ERR_CODEC, "OpenJPEG could not allocate an image");
    call.image->x0 = 0;
    call.image->y0 = 0;
    call.image->x1 = columns;
    call.image->y1 = rows;
    const size_t count = size_t(rows) * columns;
    for (size_t index = 0; index < count; ++index) {
        call.image->comps[0].data[index] = isSigned ? OPJ_INT32(int16_t(pixels[index])) : OPJ_INT32(pixels[index]);
    }
    call.codec = opj_create_compress(OPJ_CODEC_J2K);
    opj_set_error_handler(call.codec, keepMessage, &call.message);
    if (!opj_setup_encoder(call.codec, &parameters, call.image)) {
        return fail(error, HF_ERR_CODEC, "OpenJPEG encoder setup failed: %s", call.reason());
    }
    out.clear();
    OutputBytes output{&out, 0};
    call.stream = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_FALSE);
    opj_stream_set_user_data(call.stream, &output, nullptr);
    opj_stream_set_write_function(call.stream, writeOutput);
    opj_stream_set_skip_function(call.stream, skipOutput);
    opj_stream_set_seek_function(call.stream, seekOutput);
    if (!opj_start_compress(call.codec, call.image, call.stream) || !opj_encode(call.codec, call.stream) ||
        !opj_end_compress(call.codec, call.stream)) {
        return fail(error, HF_ERR_CODEC, "JPEG 2000 encoding failed: %s", call.reason());
    }
    if (out.size() % 2 == 1) out.push_back(0);  // DICOM fragments have even length
    return HF_OK;
}

hf_status decodeBaselineJPEG(const uint8_t *bytes, size_t length, uint32_t rows, uint32_t columns, uint8_t *out,
                             hf_error *error) {
    tjhandle handle = tjInitDecompress();
    if (handle == nullptr) return fail(error, HF_ERR_CODEC, "TurboJPEG could not start");
    int width = 0, height = 0, subsampling = 0, colorspace = 0;
    auto *input = const_cast<unsigned char *>(bytes);
    hf_status status = HF_OK;
    if (tjDecompressHeader3(handle, input, (unsigned long)length, &width, &height, &subsampling, &colorspace) != 0) {
        status = fail(error, HF_ERR_CODEC, "baseline JPEG header is invalid: %s", tjGetErrorStr2(handle));
    } else if (uint32_t(width) != columns || uint32_t(height) != rows) {
        status = fail(error, HF_ERR_CODEC, "JPEG frame is %d×%d but the header says %u×%u", width, height, columns,
                      rows);
    } else if (tjDecompress2(handle, input, (unsigned long)length, out, width, 0, height, TJPF_GRAY,
                             TJFLAG_ACCURATEDCT) != 0) {
        status = fail(error, HF_ERR_CODEC, "baseline JPEG decoding failed: %s", tjGetErrorStr2(handle));
    }
    tjDestroy(handle);
    return status;
}

}  // namespace hf
