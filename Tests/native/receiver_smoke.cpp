// Smoke test of the DICOM receiver (Sources/CDCMTKShim/include/hf_receiver.h) with DCMTK's command-line tools as
// real, independent peers: echoscu, storescu, dcmcjpeg, dcmcjpls, dcmcrle, dcmdump. Built and run by
// build-receiver-smoke.sh; talks only to 127.0.0.1, and every wait is bounded.
//
// Usage: receiver_smoke TESTDATA   (the shared test data folder, with ct-ge-missing-slice/ and ct-syntax-ge-hispeed/)
#include "hf_receiver.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmnet/assoc.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char **environ;

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

int failures = 0;

void check(bool condition, const char *format, ...) __attribute__((format(printf, 2, 3)));
void check(bool condition, const char *format, ...) {
    va_list args;
    va_start(args, format);
    fprintf(stdout, condition ? "ok    " : "FAIL  ");
    vfprintf(stdout, format, args);
    fprintf(stdout, "\n");
    fflush(stdout);
    va_end(args);
    if (!condition) ++failures;
}

std::string readText(const std::string &path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

bool contains(const std::string &text, const char *part) { return text.find(part) != std::string::npos; }

int countEntries(const char *directory) {
    DIR *dir = opendir(directory);
    if (dir == nullptr) return -1;
    int count = 0;
    while (dirent *entry = readdir(dir)) {
        if (entry->d_name[0] != '.') ++count;
    }
    closedir(dir);
    return count;
}

// MARK: - Running the DCMTK tools

struct Tool {
    pid_t pid = -1;
    std::string log;
};

/// Starts a tool with stdout and stderr going to `log`.
Tool spawn(const std::vector<std::string> &arguments, const std::string &log) {
    std::vector<char *> argv;
    for (const auto &argument : arguments) argv.push_back(const_cast<char *>(argument.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    Tool tool;
    tool.log = log;
    if (posix_spawnp(&tool.pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) tool.pid = -1;
    posix_spawn_file_actions_destroy(&actions);
    return tool;
}

/// Waits at most `limit` for the tool; returns its exit status, or -1 if it did not start, crashed or had to be
/// killed.
int finish(Tool &tool, seconds limit = seconds(60)) {
    if (tool.pid < 0) return -1;
    const auto deadline = Clock::now() + limit;
    int status = 0;
    while (waitpid(tool.pid, &status, WNOHANG) == 0) {
        if (Clock::now() > deadline) {
            kill(tool.pid, SIGKILL);
            waitpid(tool.pid, &status, 0);
            fprintf(stdout, "      (killed %d after %lld s)\n", int(tool.pid), (long long)limit.count());
            return -1;
        }
        std::this_thread::sleep_for(milliseconds(20));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int run(const std::vector<std::string> &arguments, const std::string &log) {
    Tool tool = spawn(arguments, log);
    return finish(tool);
}

/// The transfer syntaxes the receiver must take as sent. storescu proposes only the one syntax its options name
/// (and converts other files, or fails), so it is given a profile (-xf) with one CT Image Storage context per syntax,
/// like a sender proposing what it holds; it then sends each file on the context of the file's own syntax.
const char *const kSyntaxes[] = {
    "1.2.840.10008.1.2",      "1.2.840.10008.1.2.1",    "1.2.840.10008.1.2.2",    "1.2.840.10008.1.2.1.99",
    "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.5"};
std::string storescuProfile;  // path of the -xf file, written by main

void writeStorescuProfile(const std::string &path) {
    std::ofstream out(path);
    out << "[[TransferSyntaxes]]\n";
    for (size_t i = 0; i < sizeof(kSyntaxes) / sizeof(kSyntaxes[0]); ++i) {
        out << "[TS" << i << "]\nTransferSyntax1 = " << kSyntaxes[i] << "\n";
    }
    out << "[[PresentationContexts]]\n[CT]\n";
    for (size_t i = 0; i < sizeof(kSyntaxes) / sizeof(kSyntaxes[0]); ++i) {
        out << "PresentationContext" << i + 1 << " = 1.2.840.10008.5.1.4.1.1.2\\TS" << i << "\n";
    }
    out << "[[Profiles]]\n[CT]\nPresentationContexts = CT\n";
    storescuProfile = path;
}

// Peers give up after 5 s to connect or negotiate and 15 s without DIMSE progress.
std::vector<std::string> storescu(const std::string &caller, uint16_t port, const std::vector<std::string> &files) {
    std::vector<std::string> arguments = {"storescu", "-aet", caller, "-aec", "HFRECV", "-xf", storescuProfile, "CT",
                                          "-to", "5", "-ta", "5", "-td", "15", "127.0.0.1", std::to_string(port)};
    arguments.insert(arguments.end(), files.begin(), files.end());
    return arguments;
}

std::vector<std::string> echoscu(uint16_t port) {
    return {"echoscu", "-aet", "HFTEST", "-aec", "HFRECV", "-to", "5", "-ta", "5", "127.0.0.1", std::to_string(port)};
}

// MARK: - The receiver's callbacks

struct Received {
    std::string path, transferSyntax, sopInstance, study, series, calling;
    uint64_t size;
};

struct Recorder {
    std::mutex lock;
    std::condition_variable changed;
    std::vector<Received> instances;
    std::atomic<uint16_t> status{0x0000};  ///< what the callback answers
    bool hold = false;         ///< callbacks wait (at most 30 s) until this is cleared
    int holding = 0;
    std::vector<std::string> messages;

    size_t count() {
        std::lock_guard<std::mutex> guard(lock);
        return instances.size();
    }
    void setHold(bool value) {
        std::lock_guard<std::mutex> guard(lock);
        hold = value;
        changed.notify_all();
    }
    bool waitHolding(int count, seconds limit) {
        std::unique_lock<std::mutex> guard(lock);
        return changed.wait_for(guard, limit, [&] { return holding >= count; });
    }
};

/// Does what the daemon's journal will do: check the file, fsync it again (the receiver already has), record it.
uint16_t store(void *context, const hf_received_instance *instance) {
    auto *recorder = static_cast<Recorder *>(context);
    const int fd = open(instance->path, O_RDONLY | O_CLOEXEC);
    struct stat info;
    const bool durable = fd >= 0 && fstat(fd, &info) == 0 && uint64_t(info.st_size) == instance->size && fsync(fd) == 0;
    if (fd >= 0) close(fd);
    std::unique_lock<std::mutex> guard(recorder->lock);
    if (!durable) return 0xA700;
    if (recorder->status != 0x0000) return recorder->status;  // a journal that cannot record refuses
    recorder->instances.push_back({instance->path, instance->transfer_syntax_uid, instance->sop_instance_uid,
                                   instance->study_instance_uid, instance->series_instance_uid,
                                   instance->calling_ae_title, instance->size});
    if (recorder->hold) {
        ++recorder->holding;
        recorder->changed.notify_all();
        recorder->changed.wait_for(guard, seconds(30), [&] { return !recorder->hold; });
        --recorder->holding;
    }
    return recorder->status;
}

void logMessage(void *context, hf_receiver_log_level level, const char *message) {
    auto *recorder = static_cast<Recorder *>(context);
    const char *name = level == HF_RECEIVER_LOG_ERROR ? "error" : level == HF_RECEIVER_LOG_WARNING ? "warning" : "info";
    fprintf(stdout, "      [receiver %s] %s\n", name, message);
    std::lock_guard<std::mutex> guard(recorder->lock);
    recorder->messages.push_back(message);
}

hf_receiver_counters counters(hf_receiver *receiver) {
    hf_receiver_counters values;
    hf_receiver_get_counters(receiver, &values);
    return values;
}

// MARK: - Comparing what arrived with what was sent

std::string transferSyntaxOf(const std::string &path) {
    DcmFileFormat file;
    OFString uid;
    if (file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 4096).bad()) return "";
    file.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, uid);
    return uid.c_str();
}

/// "study series SOP-instance" UIDs of a file.
std::string identityOf(const std::string &path) {
    DcmFileFormat file;
    OFString study, series, instance;
    if (file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 4096).bad()) return "";
    file.getDataset()->findAndGetOFString(DCM_StudyInstanceUID, study);
    file.getDataset()->findAndGetOFString(DCM_SeriesInstanceUID, series);
    file.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, instance);
    return std::string(study.c_str()) + " " + series.c_str() + " " + instance.c_str();
}

/// True if both files carry the same Pixel Data bytes: the same fragments for encapsulated syntaxes, the same
/// values otherwise. `why` says what differs.
bool samePixelData(const std::string &sent, const std::string &received, std::string &why) {
    DcmFileFormat a, b;
    if (a.loadFile(sent.c_str()).bad() || b.loadFile(received.c_str()).bad()) {
        why = "cannot load";
        return false;
    }
    const E_TransferSyntax syntax = a.getDataset()->getOriginalXfer();
    if (b.getDataset()->getOriginalXfer() != syntax) {
        why = "transfer syntax differs";
        return false;
    }
    DcmElement *elementA = nullptr, *elementB = nullptr;
    if (a.getDataset()->findAndGetElement(DCM_PixelData, elementA).bad() ||
        b.getDataset()->findAndGetElement(DCM_PixelData, elementB).bad()) {
        why = "no pixel data";
        return false;
    }
    auto *pixelsA = static_cast<DcmPixelData *>(elementA);
    auto *pixelsB = static_cast<DcmPixelData *>(elementB);
    if (DcmXfer(syntax).isEncapsulated()) {
        DcmPixelSequence *sequenceA = nullptr, *sequenceB = nullptr;
        if (pixelsA->getEncapsulatedRepresentation(syntax, nullptr, sequenceA).bad() ||
            pixelsB->getEncapsulatedRepresentation(syntax, nullptr, sequenceB).bad() ||
            sequenceA->card() != sequenceB->card()) {
            why = "fragment count differs";
            return false;
        }
        for (unsigned long i = 0; i < sequenceA->card(); ++i) {
            DcmPixelItem *itemA = nullptr, *itemB = nullptr;
            Uint8 *bytesA = nullptr, *bytesB = nullptr;
            sequenceA->getItem(itemA, i);
            sequenceB->getItem(itemB, i);
            itemA->getUint8Array(bytesA);
            itemB->getUint8Array(bytesB);
            if (itemA->getLength() != itemB->getLength() ||
                (itemA->getLength() > 0 && memcmp(bytesA, bytesB, itemA->getLength()) != 0)) {
                why = "fragment " + std::to_string(i) + " differs";
                return false;
            }
        }
        return true;
    }
    Uint8 *bytesA = nullptr, *bytesB = nullptr;
    pixelsA->getUint8Array(bytesA);
    pixelsB->getUint8Array(bytesB);
    if (pixelsA->getLength() != pixelsB->getLength() || bytesA == nullptr || bytesB == nullptr ||
        memcmp(bytesA, bytesB, pixelsA->getLength()) != 0) {
        why = "pixel values differ";
        return false;
    }
    return true;
}

/// Checks the instances recorded from `first` on against the files sent, in order (storescu sends them in order).
void checkReceived(Recorder &recorder, size_t first, const std::vector<std::string> &sent, const std::string &logs,
                   const char *label) {
    std::vector<Received> got;
    {
        std::lock_guard<std::mutex> guard(recorder.lock);
        got.assign(recorder.instances.begin() + long(std::min(first, recorder.instances.size())),
                   recorder.instances.end());
    }
    check(got.size() == sent.size(), "%s: %zu of %zu instances recorded", label, got.size(), sent.size());
    for (size_t i = 0; i < got.size() && i < sent.size(); ++i) {
        const std::string expected = transferSyntaxOf(sent[i]);
        const std::string name = sent[i].substr(sent[i].rfind('/') + 1);
        std::string why;
        const bool same = samePixelData(sent[i], got[i].path, why);
        // dcmdump, an independent reader, must parse the spooled file and see the same transfer syntax.
        const std::string dumpLog = logs + "/dcmdump-" + std::to_string(first + i) + ".log";
        const int dumped = run({"dcmdump", "-q", "-Un", "+P", "0002,0010", got[i].path}, dumpLog);
        const bool identified = identityOf(sent[i]) == got[i].study + " " + got[i].series + " " + got[i].sopInstance;
        check(got[i].transferSyntax == expected && transferSyntaxOf(got[i].path) == expected && same && dumped == 0 &&
                  contains(readText(dumpLog), expected.c_str()) && identified,
              "%s: %s arrived in %s, pixel data %s, dcmdump %s, UIDs %s", label, name.c_str(),
              got[i].transferSyntax.c_str(), same ? "bit-identical" : why.c_str(), dumped == 0 ? "reads it" : "fails",
              identified ? "match" : "differ");
    }
}

// MARK: - Raw TCP peers

int connectTo(uint16_t port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address;
    memset(&address, 0, sizeof(address));
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) == 0) return fd;
    if (fd >= 0) close(fd);
    return -1;
}

/// True if the receiver closes the connection within `limit` (reads drain anything it sends first).
bool closedWithin(int fd, seconds limit) {
    const auto deadline = Clock::now() + limit;
    char buffer[256];
    while (Clock::now() < deadline) {
        pollfd ready{fd, POLLIN, 0};
        if (poll(&ready, 1, 100) <= 0) continue;
        const ssize_t n = read(fd, buffer, sizeof(buffer));
        if (n <= 0) return true;
    }
    return false;
}

// MARK: - Process resources

int openDescriptors() { return countEntries("/proc/self/fd"); }
int threads() { return countEntries("/proc/self/task"); }

hf_receiver *start(Recorder &recorder, const std::string &spool, uint32_t maxAssociations,
                   const std::vector<const char *> &allowed) {
    hf_receiver_config config;
    memset(&config, 0, sizeof(config));
    config.ae_title = "HFRECV";
    config.bind_address = "127.0.0.1";
    config.port = 0;
    config.allowed_calling_ae_titles = allowed.empty() ? nullptr : allowed.data();
    config.allowed_calling_ae_title_count = allowed.size();
    config.max_associations = maxAssociations;
    config.acse_timeout_seconds = 5;
    config.dimse_timeout_seconds = 15;
    config.spool_directory = spool.c_str();
    hf_receiver *receiver = nullptr;
    hf_error error = {{0}};
    const hf_status status = hf_receiver_start(&config, store, logMessage, &recorder, &receiver, &error);
    check(status == HF_OK && receiver != nullptr && hf_receiver_bound_port(receiver) != 0,
          "receiver started on 127.0.0.1:%u%s%s", receiver != nullptr ? hf_receiver_bound_port(receiver) : 0,
          status == HF_OK ? "" : ": ", error.message);
    return receiver;
}

/// A peer of our own that negotiates Verification and then stays silent, to test the stop deadline.
struct IdlePeer {
    T_ASC_Network *network = nullptr;
    T_ASC_Association *association = nullptr;

    bool connect(uint16_t port) {
        T_ASC_Parameters *parameters = nullptr;
        if (ASC_initializeNetwork(NET_REQUESTOR, 0, 5, &network).bad() ||
            ASC_createAssociationParameters(&parameters, ASC_DEFAULTMAXPDU).bad()) {
            return false;
        }
        const std::string address = "127.0.0.1:" + std::to_string(port);
        const char *syntaxes[] = {UID_LittleEndianExplicitTransferSyntax};
        ASC_setAPTitles(parameters, "HFIDLE", "HFRECV", nullptr);
        ASC_setPresentationAddresses(parameters, "localhost", address.c_str());
        ASC_addPresentationContext(parameters, 1, UID_VerificationSOPClass, syntaxes, 1);
        if (ASC_requestAssociation(network, parameters, &association).bad()) {
            if (association == nullptr) ASC_destroyAssociationParameters(&parameters);
            return false;
        }
        return ASC_countAcceptedPresentationContexts(parameters) == 1;
    }
    ~IdlePeer() {
        if (association != nullptr) {
            ASC_abortAssociation(association);
            ASC_destroyAssociation(&association);
        }
        if (network != nullptr) ASC_dropNetwork(&network);
    }
};

}  // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s TESTDATA\n", argv[0]);
        return 2;
    }
    const std::string testdata = argv[1];
    char workTemplate[] = "/tmp/hf-receiver-smoke-XXXXXX";
    if (mkdtemp(workTemplate) == nullptr) return 2;
    const std::string work = workTemplate, spool = work + "/spool", logs = work + "/logs", in = work + "/in";
    mkdir(spool.c_str(), 0755);
    mkdir(logs.c_str(), 0755);
    mkdir(in.c_str(), 0755);
    fprintf(stdout, "work folder %s\n", work.c_str());
    writeStorescuProfile(work + "/storescu.cfg");

    // Inputs: three explicit-little-endian CT slices, the same converted by DCMTK's encoders, and one real CT slice
    // in the other transfer syntaxes the receiver accepts (including JPEG 2000, which Debian's DCMTK cannot encode).
    std::vector<std::string> plain, jpeg, jpegLS, rle;
    for (const char *name : {"IM-0001-0007-0001.dcm", "IM-0001-0008-0001.dcm", "IM-0001-0009-0001.dcm"}) {
        const std::string source = testdata + "/ct-ge-missing-slice/" + name, stem = in + "/" + name;
        plain.push_back(source);
        jpeg.push_back(stem + ".jpeg-sv1.dcm");
        jpegLS.push_back(stem + ".jpeg-ls.dcm");
        rle.push_back(stem + ".rle.dcm");
        const bool converted = run({"dcmcjpeg", "+e1", source, jpeg.back()}, logs + "/convert.log") == 0 &&
                               run({"dcmcjpls", "+el", source, jpegLS.back()}, logs + "/convert.log") == 0 &&
                               run({"dcmcrle", source, rle.back()}, logs + "/convert.log") == 0;
        check(converted, "%s converted with dcmcjpeg +e1, dcmcjpls +el, dcmcrle", name);
    }
    std::vector<std::string> syntaxes;
    for (const char *name : {
             "LittleEndianImplicit_1.2.840.10008.1.2.dcm", "BigEndianExplicit_1.2.840.10008.1.2.2.dcm",
             "DeflatedExplicitVRLittleEndian_1.2.840.10008.1.2.1.99.dcm", "JPEGProcess1_1.2.840.10008.1.2.4.50.dcm",
             "JPEGProcess2_4_1.2.840.10008.1.2.4.51.dcm", "JPEGProcess14_1.2.840.10008.1.2.4.57.dcm",
             "JPEGProcess14SV1_1.2.840.10008.1.2.4.70.dcm", "JPEGLSLossless_1.2.840.10008.1.2.4.80.dcm",
             "JPEGLSLossy_1.2.840.10008.1.2.4.81.dcm", "JPEG2000LosslessOnly_1.2.840.10008.1.2.4.90.dcm",
             "JPEG2000_1.2.840.10008.1.2.4.91.dcm", "RLELossless_1.2.840.10008.1.2.5.dcm"}) {
        syntaxes.push_back(testdata + "/ct-syntax-ge-hispeed/" + name);
    }

    // A thread started and joined first: ThreadSanitizer starts a helper thread of its own with the first one.
    std::thread([] {}).join();
    const int descriptorsBefore = openDescriptors(), threadsBefore = threads();
    Recorder recorder;
    hf_receiver *receiver = start(recorder, spool, 3, {"HFTEST", "HFOTHER"});
    if (receiver == nullptr) return 1;
    const uint16_t port = hf_receiver_bound_port(receiver);

    // C-ECHO.
    check(run(echoscu(port), logs + "/echo.log") == 0 && counters(receiver).echoes == 1, "echoscu succeeds");

    // C-STORE: each transfer syntax arrives as sent.
    struct Batch { const char *label; const std::vector<std::string> *files; };
    for (const Batch &batch : {Batch{"explicit LE", &plain}, Batch{"JPEG lossless SV1", &jpeg},
                               Batch{"JPEG-LS lossless", &jpegLS}, Batch{"RLE", &rle},
                               Batch{"other syntaxes", &syntaxes}}) {
        const size_t first = recorder.count();
        const std::string log = logs + "/store-" + std::to_string(first) + ".log";
        const int exit = run(storescu("HFTEST", port, *batch.files), log);
        check(exit == 0, "storescu of %zu %s files exits %d", batch.files->size(), batch.label, exit);
        checkReceived(recorder, first, *batch.files, logs, batch.label);
    }

    // Three senders at once.
    {
        const size_t first = recorder.count();
        std::vector<Tool> tools;
        for (int i = 0; i < 3; ++i) {
            tools.push_back(spawn(storescu("HFOTHER", port, plain), logs + "/parallel-" + std::to_string(i) + ".log"));
        }
        int succeeded = 0;
        for (Tool &tool : tools) succeeded += finish(tool) == 0 ? 1 : 0;
        check(succeeded == 3 && recorder.count() == first + 9, "3 parallel storescu succeed (%d), 9 instances (%zu)",
              succeeded, recorder.count() - first);
    }

    // A calling AE title not on the allow-list.
    {
        const auto rejected = counters(receiver).associations_rejected;
        const std::string log = logs + "/intruder.log";
        const int exit = run(storescu("INTRUDER", port, {plain[0]}), log);
        check(exit != 0 && contains(readText(log), "Calling AE Title Not Recognized") &&
                  counters(receiver).associations_rejected == rejected + 1,
              "calling AE INTRUDER is rejected (storescu exits %d)", exit);
    }

    // The callback refuses: the sender sees 0xA700 and the file is gone.
    {
        const int spooled = countEntries(spool.c_str());
        const auto failed = counters(receiver).instances_failed;
        recorder.status = 0xA700;
        const std::string log = logs + "/refused.log";
        std::vector<std::string> arguments = storescu("HFTEST", port, {plain[0]});
        arguments.insert(arguments.begin() + 1, "-v");  // storescu logs the response status in verbose mode
        const int exit = run(arguments, log);
        recorder.status = 0x0000;
        check(exit == 0xA7 && contains(readText(log), "Refused: OutOfResources") &&
                  countEntries(spool.c_str()) == spooled && counters(receiver).instances_failed == failed + 1,
              "callback status 0xA700 reaches storescu (exit %d) and the file is removed", exit);
    }

    // A data set without a Study Instance UID cannot be placed: 0xC000 (cannot understand), no callback, no file.
    {
        const std::string orphan = in + "/no-study.dcm";
        const int spooled = countEntries(spool.c_str());
        const size_t recorded = recorder.count();
        const bool made = run({"cp", plain[0], orphan}, logs + "/orphan.log") == 0 &&
                          run({"dcmodify", "-nb", "-ea", "(0020,000D)", orphan}, logs + "/orphan.log") == 0;
        const int exit = run(storescu("HFTEST", port, {orphan}), logs + "/orphan-store.log");
        check(made && exit == 0xC0 && recorder.count() == recorded && countEntries(spool.c_str()) == spooled,
              "a data set without Study Instance UID is refused with 0xC000 (storescu exits %d), no callback, no file",
              exit);
    }

    // A write failure (here the file size limit, standing in for a full disk) answers 0xA700 without calling the
    // callback and leaves no file. The limit is lifted again before anything else writes.
    {
        const int spooled = countEntries(spool.c_str());
        const size_t recorded = recorder.count();
        const auto failed = counters(receiver).instances_failed;
        struct rlimit previous, limit;
        getrlimit(RLIMIT_FSIZE, &previous);
        limit = previous;
        limit.rlim_cur = 100 * 1024;  // the CT slice is 525 KB
        signal(SIGXFSZ, SIG_IGN);     // writes past the limit then fail with EFBIG instead of killing us
        setrlimit(RLIMIT_FSIZE, &limit);
        const std::string log = logs + "/full.log";
        std::vector<std::string> arguments = storescu("HFTEST", port, {plain[0]});
        arguments.insert(arguments.begin() + 1, "-v");
        const int exit = run(arguments, log);
        setrlimit(RLIMIT_FSIZE, &previous);
        signal(SIGXFSZ, SIG_DFL);
        check(exit == 0xA7 && contains(readText(log), "Refused: OutOfResources") && recorder.count() == recorded &&
                  countEntries(spool.c_str()) == spooled && counters(receiver).instances_failed == failed + 1,
              "a failed write answers 0xA700 (storescu exits %d), no callback, no file left", exit);
    }

    // Peers that never negotiate: one sends HTTP, one sends nothing. The first is closed at once; both are counted
    // as rejected (the silent one after the ACSE timeout, 5 s here, or at stop).
    {
        const auto rejected = counters(receiver).associations_rejected;
        const int http = connectTo(port);
        const char request[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        const bool sent = http >= 0 && write(http, request, sizeof(request) - 1) == ssize_t(sizeof(request) - 1);
        check(sent && closedWithin(http, seconds(3)), "a peer sending HTTP is disconnected");
        if (http >= 0) close(http);
        const int silent = connectTo(port);
        check(silent >= 0 && closedWithin(silent, seconds(8)) &&
                  counters(receiver).associations_rejected == rejected + 2,
              "a silent peer is disconnected after the ACSE timeout");
        if (silent >= 0) close(silent);
    }

    // More associations than the limit (3): the fourth and fifth are rejected, the first three complete.
    {
        const auto rejected = counters(receiver).associations_rejected;
        recorder.setHold(true);
        std::vector<Tool> held;
        for (int i = 0; i < 3; ++i) {
            held.push_back(spawn(storescu("HFTEST", port, {plain[0]}), logs + "/held-" + std::to_string(i) + ".log"));
        }
        const bool allHeld = recorder.waitHolding(3, seconds(20));
        check(allHeld && counters(receiver).associations_open == 3, "3 associations open and inside the callback");
        int refused = 0;
        for (int i = 0; i < 2; ++i) {
            const std::string log = logs + "/over-" + std::to_string(i) + ".log";
            const int exit = run(storescu("HFTEST", port, {plain[0]}), log);
            refused += exit != 0 && contains(readText(log), "Local Limit Exceeded") ? 1 : 0;
        }
        recorder.setHold(false);
        int completed = 0;
        for (Tool &tool : held) completed += finish(tool) == 0 ? 1 : 0;
        check(refused == 2 && completed == 3 && counters(receiver).associations_rejected == rejected + 2,
              "over the limit: %d of 2 rejected (local limit exceeded), %d of 3 held ones complete", refused,
              completed);
    }

    // A second receiver in the same process, and a receiver started again after a stop.
    {
        Recorder other;
        hf_receiver *second = start(other, spool, 0, {});
        const bool both = second != nullptr && run(echoscu(hf_receiver_bound_port(second)), logs + "/echo2.log") == 0 &&
                          run(echoscu(port), logs + "/echo1.log") == 0;
        check(both, "two receivers answer C-ECHO side by side");
        check(hf_receiver_stop(second, 1) == 0, "second receiver stops");
        hf_receiver *again = start(other, spool, 0, {});
        check(again != nullptr && run(echoscu(hf_receiver_bound_port(again)), logs + "/echo3.log") == 0,
              "a receiver started after a stop answers C-ECHO");
        hf_receiver_stop(again, 1);
    }

    // Graceful stop: an association inside the callback finishes, new ones are refused at once.
    {
        recorder.setHold(true);
        Tool sender = spawn(storescu("HFTEST", port, {plain[0]}), logs + "/graceful.log");
        check(recorder.waitHolding(1, seconds(20)), "an association is inside the callback");
        const auto begin = Clock::now();
        std::atomic<int> aborted{-1};
        std::thread stopper([&] { aborted = hf_receiver_stop(receiver, 20); });
        std::this_thread::sleep_for(milliseconds(300));
        const int refused = run(echoscu(port), logs + "/echo-stopping.log");
        recorder.setHold(false);
        const int exit = finish(sender);
        stopper.join();
        const double took = std::chrono::duration<double>(Clock::now() - begin).count();
        check(refused != 0, "while stopping, a new association is refused (echoscu exits %d)", refused);
        check(exit == 0 && aborted == 0 && took < 5, "stop(20 s) lets the stored instance finish (storescu exits %d), "
              "aborts %d, returns after %.2f s", exit, aborted.load(), took);
        receiver = nullptr;
    }

    // Stop deadline: an idle association is cut when the deadline passes.
    {
        Recorder idle;
        hf_receiver *third = start(idle, spool, 0, {});
        IdlePeer peer;
        const bool connected = third != nullptr && peer.connect(hf_receiver_bound_port(third));
        check(connected, "an idle peer holds an association");
        const auto begin = Clock::now();
        const int aborted = third != nullptr ? hf_receiver_stop(third, 1.0) : -1;
        const double took = std::chrono::duration<double>(Clock::now() - begin).count();
        check(aborted == 1 && took >= 0.9 && took < 4, "stop(1 s) aborts %d idle association after %.2f s", aborted,
              took);
    }

    // Nothing left behind: every thread joined, every descriptor closed, no partial files.
    const int descriptorsAfter = openDescriptors(), threadsAfter = threads();
    check(descriptorsAfter == descriptorsBefore, "open descriptors: %d before, %d after", descriptorsBefore,
          descriptorsAfter);
    check(threadsAfter == threadsBefore, "threads: %d before, %d after", threadsBefore, threadsAfter);
    int partial = 0;
    if (DIR *dir = opendir(spool.c_str())) {
        while (dirent *entry = readdir(dir)) partial += strstr(entry->d_name, ".part") != nullptr ? 1 : 0;
        closedir(dir);
    }
    check(partial == 0 && countEntries(spool.c_str()) == int(recorder.count()),
          "spool holds the %zu recorded instances and no partial file", recorder.count());

    fprintf(stdout, "%s: %d failure(s)\n", failures == 0 ? "PASS" : "FAIL", failures);
    if (failures == 0) {
        const std::string cleanup = "rm -rf '" + work + "'";
        if (system(cleanup.c_str()) != 0) fprintf(stdout, "could not remove %s\n", work.c_str());
    }
    return failures == 0 ? 0 : 1;
}
