// The DICOM receiver behind hf_receiver.h: C-ECHO and C-STORE SCP on DCMTK's dcmnet.
//
// Threading model: a listener thread per receiver accepts TCP connections on a socket we bind ourselves (DCMTK
// 3.6.7 binds every interface and cannot report the port it got for port 0), and starts a thread per connection,
// up to max_associations + kNegotiationSlack threads. A connection thread waits for the A-ASSOCIATE-RQ, hands the
// socket to DCMTK, negotiates (AE titles, the association limit), then serves C-ECHO and C-STORE until the peer
// releases, aborts, goes silent for the DIMSE timeout, or the receiver's stop deadline cuts the socket.
//
// Each accepted socket stays ours; DCMTK works on a duplicate. That lets hf_receiver_stop end an association from
// another thread by shutting the socket down (DCMTK's calls are not safe to make across threads), after which the
// association's own thread sees the network close and cleans up.
#include "internal/hf_internal.hpp"
#include "include/hf_receiver.h"

#include <dcmtk/dcmdata/dcostrmf.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/dul.h>
#include <dcmtk/oflog/oflog.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <list>
#include <mutex>
#include <random>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kDefaultMaxAssociations = 16;
constexpr uint32_t kMaxAssociationsLimit = 1024;
constexpr uint32_t kDefaultMaxPDU = 16384;
constexpr uint32_t kMinPDU = 4096;
constexpr uint32_t kMaxPDU = 131072;
constexpr uint32_t kDefaultACSETimeout = 30;
constexpr uint32_t kDefaultDIMSETimeout = 60;
constexpr uint32_t kMaxTimeout = 86400;
/// Connection threads allowed beyond max_associations, so that peers over the limit get an A-ASSOCIATE-RJ with a
/// reason; past this many, new connections are closed at once.
constexpr size_t kNegotiationSlack = 8;
/// Association requests up to this size are waited for in full before DCMTK reads them (see waitForRequest).
constexpr size_t kMaxPeekedRequest = 65536;

/// DCMTK 3.6.7 takes an accepted socket only through the process-wide dcmExternalSocketHandle, so every receiver
/// sets it, calls DCMTK and clears it under this lock. The association request is already in the socket buffer by
/// then (waitForRequest), so a slow peer never holds the lock.
std::mutex externalSocketLock;

/// Transfer syntaxes accepted for storage, in order of preference within one proposed presentation context: lossless
/// compressed first (a sender holding compressed images never has to decompress them), then uncompressed, then lossy
/// (a sender holding uncompressed images is never asked to compress them lossily).
const char *storageSyntaxes[] = {
    UID_JPEGLSLosslessTransferSyntax,        UID_JPEGProcess14SV1TransferSyntax,
    UID_JPEGProcess14TransferSyntax,         UID_JPEG2000LosslessOnlyTransferSyntax,
    UID_RLELosslessTransferSyntax,           UID_DeflatedExplicitVRLittleEndianTransferSyntax,
    UID_LittleEndianExplicitTransferSyntax,  UID_LittleEndianImplicitTransferSyntax,
    UID_BigEndianExplicitTransferSyntax,     UID_JPEGLSLossyTransferSyntax,
    UID_JPEG2000TransferSyntax,              UID_JPEGProcess1TransferSyntax,
    UID_JPEGProcess2_4TransferSyntax,
};
const char *verificationClasses[] = {UID_VerificationSOPClass};
const char *verificationSyntaxes[] = {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax};

void initializeOnce() {
    static std::once_flag once;
    std::call_once(once, [] {
        // Problems are reported through the log callback; DCMTK would otherwise print to stderr.
        OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
        // DCMTK looks up every peer's host name by default, which can stall an association on a slow DNS.
        dcmDisableGethostbyaddr.set(OFTrue);
    });
}

std::string trimmed(const char *text) {
    std::string value = text != nullptr ? text : "";
    const size_t first = value.find_first_not_of(' ');
    if (first == std::string::npos) return "";
    return value.substr(first, value.find_last_not_of(' ') - first + 1);
}

bool isAETitle(const std::string &title) {
    if (title.empty() || title.size() > 16) return false;
    for (const char c : title) {
        if (c == '\\' || !isprint(static_cast<unsigned char>(c))) return false;
    }
    return true;
}

/// Success and warnings leave the instance stored; every other status refuses it.
bool isStored(uint16_t status) { return status == 0x0000 || status == 0x0001 || (status & 0xF000) == 0xB000; }

/// Spool file names start with the SOP Instance UID; anything but a plausible UID becomes "unknown", so that a peer
/// cannot choose a path.
std::string fileStem(const char *uid) {
    const size_t length = strnlen(uid, 65);
    bool plausible = length > 0 && length <= 64 && uid[0] != '.';
    for (size_t i = 0; plausible && i < length; ++i) {
        plausible = isdigit(static_cast<unsigned char>(uid[i])) || uid[i] == '.';
    }
    return plausible ? std::string(uid, length) : std::string("unknown");
}

std::string systemError(const char *what, const std::string &path) {
    return std::string(what) + " " + path + ": " + strerror(errno);
}

// Descriptors are opened close-on-exec so that processes the host spawns never inherit sockets or spool files.
int openSocket() {
#ifdef SOCK_CLOEXEC
    return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
#else
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
#endif
}

int acceptConnection(int listenFd) {
#ifdef __linux__
    const int fd = accept4(listenFd, nullptr, nullptr, SOCK_CLOEXEC);  // does not inherit O_NONBLOCK on Linux
#else
    const int fd = accept(listenFd, nullptr, nullptr);
    if (fd >= 0) {
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);  // BSDs inherit the listener's O_NONBLOCK
    }
#endif
    if (fd >= 0) {
        // Nagle off: a C-STORE response is one small PDU that the sender waits for before its next request, and
        // with Nagle (which Debian's DCMTK leaves on unless TCP_NODELAY is set in the environment) it waits for
        // the peer's delayed ACK first: 45-55 ms an instance instead of about 10 (Benchmarks/daemon).
        const int on = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    }
    return fd;
}

int openPipe(int fds[2]) {
#ifdef __linux__
    return pipe2(fds, O_CLOEXEC);
#else
    if (pipe(fds) != 0) return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
#endif
}

struct Connection {
    int fd = -1;                         ///< the accepted socket (ours; DCMTK works on a duplicate)
    std::mutex fdLock;                   ///< stop() shuts `fd` down while the thread may be closing it
    std::thread thread;
    std::atomic<bool> associated{false};  ///< an association was accepted on it
    std::atomic<bool> finished{false};
};

struct Counters {
    std::atomic<uint64_t> open{0}, accepted{0}, rejected{0}, aborted{0}, echoes{0}, stored{0}, failed{0}, bytes{0};
};

}  // namespace

struct hf_receiver {
    std::string aeTitle;
    std::string spool;
    std::vector<std::string> allowedCallers;
    uint32_t maxAssociations = kDefaultMaxAssociations;
    uint32_t maxPDU = kDefaultMaxPDU;
    int acseTimeout = kDefaultACSETimeout;
    int dimseTimeout = kDefaultDIMSETimeout;
    hf_receiver_store_fn store = nullptr;
    hf_receiver_log_fn log = nullptr;
    void *context = nullptr;

    int listenFd = -1;
    int wake[2] = {-1, -1};  ///< stop() writes a byte to end the listener's poll at once
    int spoolFd = -1;        ///< fsynced after each rename
    uint16_t port = 0;
    T_ASC_Network *network = nullptr;
    std::string fileToken;   ///< random per start, so two receivers sharing a spool never pick the same name
    std::atomic<uint64_t> fileSequence{0};

    std::thread listener;
    std::atomic<bool> stopping{false};
    std::mutex lock;  ///< guards connections, openAssociations, associationSequence
    std::condition_variable connectionEnded;
    std::list<std::unique_ptr<Connection>> connections;
    uint32_t openAssociations = 0;
    uint64_t associationSequence = 0;
    Counters counts;

    ~hf_receiver() {
        if (listenFd >= 0) close(listenFd);
        if (wake[0] >= 0) close(wake[0]);
        if (wake[1] >= 0) close(wake[1]);
        if (spoolFd >= 0) close(spoolFd);
        if (network != nullptr) ASC_dropNetwork(&network);
    }

    void report(hf_receiver_log_level level, const char *format, ...) __attribute__((format(printf, 3, 4))) {
        if (log == nullptr) return;
        char message[512];
        va_list args;
        va_start(args, format);
        vsnprintf(message, sizeof(message), format, args);
        va_end(args);
        log(context, level, message);
    }

    hf_status configure(const hf_receiver_config &config, hf_error *error);
    hf_status openListener(const hf_receiver_config &config, hf_error *error);
    void listen();
    void startConnection(int fd);
    void reapFinished();
    void serve(Connection *connection);
};

namespace {

/// One connection's association, from the request to the release. Its destructor releases whatever it holds.
class Session {
public:
    Session(hf_receiver &receiver, Connection &connection) : r(receiver), c(connection) {}
    ~Session();
    void run();

private:
    enum class Written { ok, writeFailed, networkFailed };

    bool waitForRequest();
    bool receiveRequest();
    bool negotiate();
    void reject(T_ASC_RejectParametersResult result, T_ASC_RejectParametersSource source,
                T_ASC_RejectParametersReason reason, const char *why);
    void serveMessages();
    bool handleStore(T_ASC_PresentationContextID presID, T_DIMSE_C_StoreRQ &request);
    uint16_t storeInstance(T_ASC_PresentationContextID presID, const T_DIMSE_C_StoreRQ &request,
                           const char *transferSyntax, bool &networkFailed);
    Written writeFile(T_ASC_PresentationContextID presID, const T_DIMSE_C_StoreRQ &request,
                      const char *transferSyntax, const std::string &path, uint64_t &size, std::string &problem);
    Written skipDataSet();
    bool readIdentity(const std::string &path, const T_DIMSE_C_StoreRQ &request, std::string &study,
                      std::string &series, std::string &problem);
    OFCondition writeMetaHeader(DcmOutputStream &stream, const T_DIMSE_C_StoreRQ &request,
                                const char *transferSyntax);

    hf_receiver &r;
    Connection &c;
    T_ASC_Association *assoc = nullptr;
    bool holdsSlot = false;  ///< counted in r.openAssociations
    uint64_t id = 0;
    std::string callingAE;
    std::string peer;
};

Session::~Session() {
    if (assoc != nullptr) {
        // Gives the peer a second to close first (DCMTK's default waits up to 180 s for a peer that never does).
        ASC_dropSCPAssociation(assoc, 1);
        ASC_destroyAssociation(&assoc);
    }
    if (holdsSlot) {
        std::lock_guard<std::mutex> guard(r.lock);
        --r.openAssociations;
        r.counts.open--;
    }
}

void Session::run() {
    if (!waitForRequest() || !receiveRequest() || !negotiate()) return;
    serveMessages();
}

/// Waits until the whole first PDU, an A-ASSOCIATE-RQ, is in the socket's receive buffer, so that DCMTK reads it
/// without waiting while it holds externalSocketLock. False if the peer closes or sends something else, the receiver
/// stops, or the ACSE timeout passes.
bool Session::waitForRequest() {
    const auto deadline = Clock::now() + std::chrono::seconds(r.acseTimeout);
    std::vector<uint8_t> bytes(6);
    while (!r.stopping && Clock::now() < deadline) {
        pollfd ready{c.fd, POLLIN, 0};
        const int count = poll(&ready, 1, 100);  // wakes up to notice stop()
        if (count < 0 && errno != EINTR) break;
        if (count <= 0) continue;
        const ssize_t n = recv(c.fd, bytes.data(), bytes.size(), MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;
        if (n > 0 && bytes[0] != 0x01) break;  // not an association request: not a DICOM peer
        if (n >= 6) {
            // PDU header: type, reserved, 32-bit big-endian length of the rest.
            const size_t total = 6 + ((size_t(bytes[2]) << 24) | (size_t(bytes[3]) << 16) |
                                      (size_t(bytes[4]) << 8) | size_t(bytes[5]));
            if (size_t(n) >= total || total > kMaxPeekedRequest) return true;  // a huge request: DCMTK reads the rest
            if (bytes.size() < total) {
                bytes.resize(total);
                continue;  // peek again, for the whole PDU
            }
        }
        // Part of the PDU is here: poll() would report the same bytes again at once, so pause instead.
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    r.counts.rejected++;
    return false;
}

bool Session::receiveRequest() {
    // Not descriptor 0: DCMTK treats an external socket handle of 0 as unset.
    const int dcmtkFd = fcntl(c.fd, F_DUPFD_CLOEXEC, 1);
    if (dcmtkFd < 0) {
        r.report(HF_RECEIVER_LOG_ERROR, "cannot duplicate a connection's socket: %s", strerror(errno));
        r.counts.rejected++;
        return false;
    }
    OFCondition cond;
    {
        std::lock_guard<std::mutex> guard(externalSocketLock);
        dcmExternalSocketHandle.set(dcmtkFd);
        cond = ASC_receiveAssociation(r.network, &assoc, long(r.maxPDU), nullptr, nullptr, OFFalse, DUL_NOBLOCK,
                                      r.acseTimeout);
        dcmExternalSocketHandle.set(DCMNET_INVALID_SOCKET);
    }
    if (cond.good()) return true;
    // DCMTK owns the duplicate once it wrapped it in a connection; it returns DULC_TCPINITERROR, leaving it open,
    // only when it failed before (getpeername or setsockopt on a socket the peer already reset).
    if (cond.module() == OFM_dcmnet && cond.code() == DULC_TCPINITERROR) close(dcmtkFd);
    r.report(HF_RECEIVER_LOG_INFO, "no valid association request: %s", cond.text());
    r.counts.rejected++;
    return false;
}

void Session::reject(T_ASC_RejectParametersResult result, T_ASC_RejectParametersSource source,
                     T_ASC_RejectParametersReason reason, const char *why) {
    T_ASC_RejectParameters parameters = {result, source, reason};
    ASC_rejectAssociation(assoc, &parameters);
    r.counts.rejected++;
    r.report(HF_RECEIVER_LOG_WARNING, "association from %s (%s) rejected: %s", callingAE.c_str(), peer.c_str(), why);
}

bool Session::negotiate() {
    char calling[64] = {0}, called[64] = {0}, applicationContext[128] = {0};
    ASC_getAPTitles(assoc->params, calling, sizeof(calling), called, sizeof(called), nullptr, 0);
    ASC_getApplicationContextName(assoc->params, applicationContext, sizeof(applicationContext));
    callingAE = trimmed(calling);
    peer = assoc->params->DULparams.callingPresentationAddress;

    if (strcmp(applicationContext, UID_StandardApplicationContext) != 0) {
        reject(ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_APPCONTEXTNAMENOTSUPPORTED,
               "unsupported application context");
        return false;
    }
    if (trimmed(called) != r.aeTitle) {
        reject(ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED,
               "called AE title is not ours");
        return false;
    }
    if (!r.allowedCallers.empty() &&
        std::find(r.allowedCallers.begin(), r.allowedCallers.end(), callingAE) == r.allowedCallers.end()) {
        reject(ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED,
               "calling AE title not allowed");
        return false;
    }
    {
        std::unique_lock<std::mutex> guard(r.lock);
        if (r.stopping) {
            guard.unlock();
            reject(ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
                   ASC_REASON_SP_PRES_TEMPORARYCONGESTION, "the receiver is stopping");
            return false;
        }
        if (r.openAssociations >= r.maxAssociations) {
            guard.unlock();
            reject(ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
                   ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED, "too many associations");
            return false;
        }
        ++r.openAssociations;
        holdsSlot = true;
        id = ++r.associationSequence;
        r.counts.open++;
    }

    OFCondition cond = ASC_acceptContextsWithPreferredTransferSyntaxes(assoc->params, verificationClasses, 1,
                                                                       verificationSyntaxes, 2);
    if (cond.good()) {
        cond = ASC_acceptContextsWithPreferredTransferSyntaxes(
            assoc->params, dcmAllStorageSOPClassUIDs, numberOfDcmAllStorageSOPClassUIDs, storageSyntaxes,
            int(sizeof(storageSyntaxes) / sizeof(storageSyntaxes[0])));
    }
    if (cond.good()) cond = ASC_acknowledgeAssociation(assoc);
    if (cond.bad()) {
        r.report(HF_RECEIVER_LOG_ERROR, "association %llu from %s: cannot accept: %s", (unsigned long long)id,
                 callingAE.c_str(), cond.text());
        ASC_abortAssociation(assoc);
        r.counts.rejected++;
        return false;
    }
    c.associated = true;
    r.counts.accepted++;
    return true;
}

void Session::serveMessages() {
    for (;;) {
        T_DIMSE_Message message;
        memset(&message, 0, sizeof(message));
        T_ASC_PresentationContextID presID = 0;
        DcmDataset *statusDetail = nullptr;
        const OFCondition cond = DIMSE_receiveCommand(assoc, DIMSE_NONBLOCKING, r.dimseTimeout, &presID, &message,
                                                      &statusDetail);
        delete statusDetail;
        if (cond == DUL_PEERREQUESTEDRELEASE) {
            ASC_acknowledgeRelease(assoc);
            return;
        }
        if (cond == DUL_PEERABORTEDASSOCIATION) {
            r.counts.aborted++;
            r.report(HF_RECEIVER_LOG_WARNING, "association %llu from %s %s", (unsigned long long)id, callingAE.c_str(),
                     r.stopping ? "cut at the stop deadline" : "aborted by the peer");
            return;
        }
        bool ok = cond.good();
        if (ok && message.CommandField == DIMSE_C_ECHO_RQ) {
            ok = DIMSE_sendEchoResponse(assoc, presID, &message.msg.CEchoRQ, STATUS_Success, nullptr).good();
            if (ok) r.counts.echoes++;
        } else if (ok && message.CommandField == DIMSE_C_STORE_RQ) {
            ok = handleStore(presID, message.msg.CStoreRQ);
        } else if (ok) {
            r.report(HF_RECEIVER_LOG_WARNING, "association %llu: unsupported command 0x%04x", (unsigned long long)id,
                     unsigned(message.CommandField));
            ok = false;
        } else {
            r.report(HF_RECEIVER_LOG_WARNING, "association %llu from %s: %s", (unsigned long long)id,
                     callingAE.c_str(),
                     cond == DIMSE_NODATAAVAILABLE ? "silent for longer than the DIMSE timeout" : cond.text());
        }
        if (!ok) {
            ASC_abortAssociation(assoc);
            r.counts.aborted++;
            return;
        }
    }
}

/// Answers one C-STORE request; false when the association cannot go on.
bool Session::handleStore(T_ASC_PresentationContextID presID, T_DIMSE_C_StoreRQ &request) {
    T_ASC_PresentationContext context;
    uint16_t status;
    if (ASC_findAcceptedPresentationContext(assoc->params, presID, &context).bad() ||
        strcmp(context.abstractSyntax, request.AffectedSOPClassUID) != 0) {
        r.counts.failed++;
        r.report(HF_RECEIVER_LOG_WARNING, "association %llu: C-STORE of %s on a context negotiated for another class",
                 (unsigned long long)id, request.AffectedSOPClassUID);
        if (skipDataSet() != Written::writeFailed) return false;
        status = STATUS_STORE_Refused_SOPClassNotSupported;
    } else {
        bool networkFailed = false;
        status = storeInstance(presID, request, context.acceptedTransferSyntax, networkFailed);
        if (networkFailed) return false;
    }
    T_DIMSE_C_StoreRSP response;
    memset(&response, 0, sizeof(response));
    response.DimseStatus = status;
    response.DataSetType = DIMSE_DATASET_NULL;
    return DIMSE_sendStoreResponse(assoc, presID, &request, &response, nullptr).good();
}

/// Writes the instance, makes it durable, hands it to the callback and returns the status to answer.
uint16_t Session::storeInstance(T_ASC_PresentationContextID presID, const T_DIMSE_C_StoreRQ &request,
                                const char *transferSyntax, bool &networkFailed) {
    const std::string path = r.spool + "/" + fileStem(request.AffectedSOPInstanceUID) + "." + r.fileToken + "-" +
                             std::to_string(++r.fileSequence) + ".dcm";
    const std::string partial = path + ".part";
    uint64_t size = 0;
    std::string problem;
    Written written = writeFile(presID, request, transferSyntax, partial, size, problem);
    std::string study, series;
    if (written == Written::ok && !readIdentity(partial, request, study, series, problem)) {
        unlink(partial.c_str());
        r.counts.failed++;
        r.report(HF_RECEIVER_LOG_WARNING, "association %llu: instance %s refused: %s", (unsigned long long)id,
                 request.AffectedSOPInstanceUID, problem.c_str());
        return STATUS_STORE_Error_CannotUnderstand;
    }
    if (written == Written::ok && rename(partial.c_str(), path.c_str()) != 0) {
        problem = systemError("cannot rename", partial);
        unlink(partial.c_str());
        written = Written::writeFailed;
    }
    // The directory entry must be durable too before anyone records the file.
    if (written == Written::ok && fsync(r.spoolFd) != 0) {
        problem = systemError("cannot fsync", r.spool);
        unlink(path.c_str());
        written = Written::writeFailed;
    }
    if (written != Written::ok) {
        r.counts.failed++;
        r.report(HF_RECEIVER_LOG_ERROR, "association %llu: instance %s not stored: %s", (unsigned long long)id,
                 request.AffectedSOPInstanceUID, problem.c_str());
        networkFailed = written == Written::networkFailed;
        return STATUS_STORE_Refused_OutOfResources;
    }

    hf_received_instance instance = {callingAE.c_str(), peer.c_str(), request.AffectedSOPClassUID,
                                     request.AffectedSOPInstanceUID, study.c_str(), series.c_str(), transferSyntax,
                                     path.c_str(), size, id};
    const uint16_t status = r.store(r.context, &instance);
    if (isStored(status)) {
        r.counts.stored++;
        r.counts.bytes += size;
    } else {
        r.counts.failed++;
        if (unlink(path.c_str()) != 0 && errno != ENOENT) {
            r.report(HF_RECEIVER_LOG_ERROR, "cannot remove refused instance %s: %s", path.c_str(), strerror(errno));
        }
        r.report(HF_RECEIVER_LOG_WARNING, "association %llu: instance %s refused with status 0x%04X",
                 (unsigned long long)id, request.AffectedSOPInstanceUID, unsigned(status));
    }
    return status;
}

/// Writes File Meta Information and then the data set exactly as its PDVs arrive (no decoding, so compressed pixel
/// data stays as sent), then flushes and fsyncs. On any outcome but `ok` the file is removed again.
Session::Written Session::writeFile(T_ASC_PresentationContextID presID, const T_DIMSE_C_StoreRQ &request,
                                    const char *transferSyntax, const std::string &path, uint64_t &size,
                                    std::string &problem) {
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        problem = systemError("cannot create", path);
        return skipDataSet();
    }
    FILE *file = fdopen(fd, "wb");
    if (file == nullptr) {
        problem = systemError("cannot open", path);
        close(fd);
        unlink(path.c_str());
        return skipDataSet();
    }
    Written written = Written::ok;
    {
        DcmOutputFileStream stream(file);  // closes `file` when it goes out of scope
        OFCondition cond = writeMetaHeader(stream, request, transferSyntax);
        if (cond.bad()) {
            problem = std::string("cannot write the meta header to ") + path + ": " + cond.text();
            written = skipDataSet();
        } else {
            T_ASC_PresentationContextID dataPresID = 0;
            // On a failed write DCMTK reads and drops the rest of the data set and returns DIMSE_OUTOFRESOURCES.
            cond = DIMSE_receiveDataSetInFile(assoc, DIMSE_NONBLOCKING, r.dimseTimeout, &dataPresID, &stream,
                                              nullptr, nullptr);
            struct stat info;
            if (cond == DIMSE_OUTOFRESOURCES) {
                problem = systemError("cannot write", path);
                written = Written::writeFailed;
            } else if (cond.bad()) {
                problem = std::string("receiving the data set failed: ") + cond.text();
                written = Written::networkFailed;
            } else if (dataPresID != presID) {
                problem = "data set sent on another presentation context than its command";
                written = Written::networkFailed;
            } else if (fflush(file) != 0 || fsync(fileno(file)) != 0 || fstat(fileno(file), &info) != 0) {
                // DCMTK writes through stdio: a full disk may only show here, and must show before we answer.
                problem = systemError("cannot flush", path);
                written = Written::writeFailed;
            } else {
                size = uint64_t(info.st_size);
            }
        }
    }
    if (written != Written::ok) unlink(path.c_str());
    return written;
}

/// Reads and drops the rest of a data set that cannot be stored: the association goes on and gets 0xA700.
Session::Written Session::skipDataSet() {
    DIC_UL bytes = 0, pdvs = 0;
    return DIMSE_ignoreDataSet(assoc, DIMSE_NONBLOCKING, r.dimseTimeout, &bytes, &pdvs).good() ? Written::writeFailed
                                                                                              : Written::networkFailed;
}

/// Reads where the instance belongs (Study and Series Instance UID) from the written file's header, parsing up to
/// Pixel Data, and checks that the data set is the instance the command announced: a journal keyed by these UIDs
/// must get the ones the file holds.
bool Session::readIdentity(const std::string &path, const T_DIMSE_C_StoreRQ &request, std::string &study,
                           std::string &series, std::string &problem) {
    DcmFileFormat file;
    const OFCondition cond = file.loadFileUntilTag(path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength,
                                                   ERM_fileOnly, DCM_PixelData);
    if (cond.bad()) {
        problem = std::string("the data set cannot be parsed: ") + cond.text();
        return false;
    }
    DcmDataset *data = file.getDataset();
    OFString studyUID, seriesUID, sopClass, sopInstance;
    data->findAndGetOFString(DCM_StudyInstanceUID, studyUID);
    data->findAndGetOFString(DCM_SeriesInstanceUID, seriesUID);
    data->findAndGetOFString(DCM_SOPClassUID, sopClass);
    data->findAndGetOFString(DCM_SOPInstanceUID, sopInstance);
    if (studyUID.empty() || seriesUID.empty()) {
        problem = "the data set has no Study or Series Instance UID";
        return false;
    }
    if (sopClass != request.AffectedSOPClassUID || sopInstance != request.AffectedSOPInstanceUID) {
        problem = std::string("the data set is ") + sopClass.c_str() + " " + sopInstance.c_str() + ", the request " +
                  request.AffectedSOPClassUID + " " + request.AffectedSOPInstanceUID;
        return false;
    }
    study = studyUID.c_str();
    series = seriesUID.c_str();
    return true;
}

OFCondition Session::writeMetaHeader(DcmOutputStream &stream, const T_DIMSE_C_StoreRQ &request,
                                     const char *transferSyntax) {
    DcmMetaInfo meta;
    const Uint8 version[2] = {0, 1};
    OFCondition cond = meta.putAndInsertUint32(DCM_FileMetaInformationGroupLength, 0);
    if (cond.good()) cond = meta.putAndInsertUint8Array(DCM_FileMetaInformationVersion, version, 2);
    if (cond.good()) cond = meta.putAndInsertString(DCM_MediaStorageSOPClassUID, request.AffectedSOPClassUID);
    if (cond.good()) cond = meta.putAndInsertString(DCM_MediaStorageSOPInstanceUID, request.AffectedSOPInstanceUID);
    if (cond.good()) cond = meta.putAndInsertString(DCM_TransferSyntaxUID, transferSyntax);
    if (cond.good()) cond = meta.putAndInsertString(DCM_ImplementationClassUID, OFFIS_IMPLEMENTATION_CLASS_UID);
    if (cond.good()) {
        cond = meta.putAndInsertString(DCM_ImplementationVersionName, OFFIS_DTK_IMPLEMENTATION_VERSION_NAME);
    }
    if (cond.good()) cond = meta.putAndInsertString(DCM_SourceApplicationEntityTitle, callingAE.c_str());
    if (cond.good()) {
        cond = meta.computeGroupLengthAndPadding(EGL_withGL, EPD_noChange, META_HEADER_DEFAULT_TRANSFERSYNTAX,
                                                 EET_UndefinedLength);
    }
    if (cond.good()) {
        meta.transferInit();  // writes the preamble and "DICM" before the elements
        cond = meta.write(stream, META_HEADER_DEFAULT_TRANSFERSYNTAX, EET_ExplicitLength, nullptr);
        meta.transferEnd();
    }
    return cond;
}

}  // namespace

hf_status hf_receiver::configure(const hf_receiver_config &config, hf_error *error) {
    aeTitle = trimmed(config.ae_title);
    if (!isAETitle(aeTitle)) return hf::fail(error, HF_ERR_ARGUMENT, "AE title must be 1 to 16 printable characters");
    if (config.allowed_calling_ae_title_count > 0 && config.allowed_calling_ae_titles == nullptr) {
        return hf::fail(error, HF_ERR_ARGUMENT, "missing allowed calling AE titles");
    }
    for (size_t i = 0; i < config.allowed_calling_ae_title_count; ++i) {
        allowedCallers.push_back(trimmed(config.allowed_calling_ae_titles[i]));
        if (!isAETitle(allowedCallers.back())) {
            return hf::fail(error, HF_ERR_ARGUMENT, "allowed calling AE title %zu is not a valid AE title", i);
        }
    }
    maxAssociations = config.max_associations != 0 ? config.max_associations : kDefaultMaxAssociations;
    if (maxAssociations > kMaxAssociationsLimit) {
        return hf::fail(error, HF_ERR_ARGUMENT, "max associations %u exceeds %u", maxAssociations,
                        kMaxAssociationsLimit);
    }
    maxPDU = config.max_pdu_size != 0 ? config.max_pdu_size : kDefaultMaxPDU;
    if (maxPDU < kMinPDU || maxPDU > kMaxPDU) {
        return hf::fail(error, HF_ERR_ARGUMENT, "max PDU size %u is outside %u…%u", maxPDU, kMinPDU, kMaxPDU);
    }
    if (config.acse_timeout_seconds > kMaxTimeout || config.dimse_timeout_seconds > kMaxTimeout) {
        return hf::fail(error, HF_ERR_ARGUMENT, "timeouts are limited to %u seconds", kMaxTimeout);
    }
    acseTimeout = int(config.acse_timeout_seconds != 0 ? config.acse_timeout_seconds : kDefaultACSETimeout);
    dimseTimeout = int(config.dimse_timeout_seconds != 0 ? config.dimse_timeout_seconds : kDefaultDIMSETimeout);

    spool = config.spool_directory != nullptr ? config.spool_directory : "";
    while (spool.size() > 1 && spool.back() == '/') spool.pop_back();
    if (spool.empty()) return hf::fail(error, HF_ERR_ARGUMENT, "missing spool directory");
    spoolFd = open(spool.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (spoolFd < 0 || access(spool.c_str(), W_OK | X_OK) != 0) {
        return hf::fail(error, HF_ERR_IO, "spool directory %s is not a writable directory: %s", spool.c_str(),
                        strerror(errno));
    }
    std::random_device random;
    char token[16];
    snprintf(token, sizeof(token), "%08x", unsigned(random()));
    fileToken = token;
    if (!dcmDataDict.isDictionaryLoaded()) {
        return hf::fail(error, HF_ERR_IO, "DCMTK's data dictionary is not loaded (check DCMDICTPATH)");
    }
    return HF_OK;
}

hf_status hf_receiver::openListener(const hf_receiver_config &config, hf_error *error) {
    const std::string address = config.bind_address != nullptr && config.bind_address[0] != '\0'
                                    ? config.bind_address : "0.0.0.0";
    sockaddr_in bound;
    memset(&bound, 0, sizeof(bound));
    bound.sin_family = AF_INET;
    bound.sin_port = htons(config.port);
    if (inet_pton(AF_INET, address.c_str(), &bound.sin_addr) != 1) {
        return hf::fail(error, HF_ERR_ARGUMENT, "bind address '%s' is not an IPv4 address", address.c_str());
    }
    listenFd = openSocket();
    if (listenFd < 0) return hf::fail(error, HF_ERR_IO, "cannot create a socket: %s", strerror(errno));
    const int reuse = 1;  // a receiver started again must not wait for TIME_WAIT of the previous one
    socklen_t length = sizeof(bound);
    if (setsockopt(listenFd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse)) != 0 ||
        bind(listenFd, reinterpret_cast<sockaddr *>(&bound), sizeof(bound)) != 0 || ::listen(listenFd, 64) != 0 ||
        getsockname(listenFd, reinterpret_cast<sockaddr *>(&bound), &length) != 0) {
        return hf::fail(error, HF_ERR_IO, "cannot listen on %s:%u: %s", address.c_str(), unsigned(config.port),
                        strerror(errno));
    }
    port = ntohs(bound.sin_port);
    // Non-blocking, so that a connection reset between poll() and accept() cannot block the listener.
    if (fcntl(listenFd, F_SETFL, fcntl(listenFd, F_GETFL) | O_NONBLOCK) != 0 || openPipe(wake) != 0) {
        return hf::fail(error, HF_ERR_IO, "cannot set up the listener: %s", strerror(errno));
    }

    // A DCMTK network whose acceptor has no socket of its own: with an external socket handle set, DCMTK skips
    // creating one (it would bind every interface). Associations arrive through receiveRequest instead.
    OFCondition cond;
    {
        std::lock_guard<std::mutex> guard(externalSocketLock);
        dcmExternalSocketHandle.set(listenFd);
        cond = ASC_initializeNetwork(NET_ACCEPTOR, 0, acseTimeout, &network);
        dcmExternalSocketHandle.set(DCMNET_INVALID_SOCKET);
    }
    if (cond.bad()) return hf::fail(error, HF_ERR_IO, "cannot initialize DCMTK's network: %s", cond.text());
    return HF_OK;
}

void hf_receiver::listen() {
    while (!stopping) {
        pollfd ready[2] = {{listenFd, POLLIN, 0}, {wake[0], POLLIN, 0}};
        const int count = poll(ready, 2, 1000);  // the timeout only paces reaping finished threads
        reapFinished();
        if (stopping) break;
        if (count <= 0 || (ready[0].revents & POLLIN) == 0) continue;
        const int fd = acceptConnection(listenFd);
        if (fd >= 0) {
            startConnection(fd);
        } else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            // poll() would report the waiting connection again at once: back off instead of spinning.
            report(HF_RECEIVER_LOG_ERROR, "cannot accept a connection: %s", strerror(errno));
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
}

void hf_receiver::startConnection(int fd) {
    std::lock_guard<std::mutex> guard(lock);
    if (connections.size() >= size_t(maxAssociations) + kNegotiationSlack) {
        close(fd);
        counts.rejected++;
        report(HF_RECEIVER_LOG_WARNING, "connection closed at once: %zu connections already", connections.size());
        return;
    }
    auto connection = std::make_unique<Connection>();
    connection->fd = fd;
    Connection *raw = connection.get();
    try {
        raw->thread = std::thread([this, raw] { serve(raw); });
    } catch (const std::exception &exception) {
        close(fd);
        counts.rejected++;
        report(HF_RECEIVER_LOG_ERROR, "cannot start an association thread: %s", exception.what());
        return;
    }
    connections.push_back(std::move(connection));
}

void hf_receiver::reapFinished() {
    std::list<std::unique_ptr<Connection>> done;
    {
        std::lock_guard<std::mutex> guard(lock);
        for (auto it = connections.begin(); it != connections.end();) {
            if ((*it)->finished) done.splice(done.end(), connections, it++);
            else ++it;
        }
    }
    for (auto &connection : done) connection->thread.join();
}

void hf_receiver::serve(Connection *connection) {
    try {
        Session(*this, *connection).run();
    } catch (const std::exception &exception) {
        report(HF_RECEIVER_LOG_ERROR, "association thread failed: %s", exception.what());
    } catch (...) {
        report(HF_RECEIVER_LOG_ERROR, "association thread failed");
    }
    {
        std::lock_guard<std::mutex> guard(connection->fdLock);
        close(connection->fd);
        connection->fd = -1;
    }
    {
        std::lock_guard<std::mutex> guard(lock);
        connection->finished = true;
    }
    connectionEnded.notify_all();
}

extern "C" {

hf_status hf_receiver_start(const hf_receiver_config *config, hf_receiver_store_fn store, hf_receiver_log_fn log,
                            void *context, hf_receiver **out, hf_error *error) {
    if (out != nullptr) *out = nullptr;
    if (config == nullptr || store == nullptr || out == nullptr) {
        return hf::fail(error, HF_ERR_ARGUMENT, "missing configuration, store callback or result");
    }
    try {
        initializeOnce();
        auto receiver = std::make_unique<hf_receiver>();
        receiver->store = store;
        receiver->log = log;
        receiver->context = context;
        hf_status status = receiver->configure(*config, error);
        if (status == HF_OK) status = receiver->openListener(*config, error);
        if (status != HF_OK) return status;
        hf_receiver *raw = receiver.get();
        receiver->listener = std::thread([raw] { raw->listen(); });
        *out = receiver.release();
        return HF_OK;
    } catch (const std::exception &exception) {
        return hf::fail(error, HF_ERR_IO, "cannot start the receiver: %s", exception.what());
    }
}

uint16_t hf_receiver_bound_port(const hf_receiver *receiver) { return receiver != nullptr ? receiver->port : 0; }

void hf_receiver_get_counters(const hf_receiver *receiver, hf_receiver_counters *counters) {
    if (receiver == nullptr || counters == nullptr) return;
    const Counters &counts = receiver->counts;
    *counters = {counts.open.load(), counts.accepted.load(), counts.rejected.load(), counts.aborted.load(),
                 counts.echoes.load(), counts.stored.load(), counts.failed.load(), counts.bytes.load()};
}

int hf_receiver_stop(hf_receiver *receiver, double deadline_seconds) {
    if (receiver == nullptr) return 0;
    receiver->stopping = true;
    const char byte = 1;
    if (write(receiver->wake[1], &byte, 1) < 0) {
        // The listener also notices `stopping` within its poll timeout.
    }
    if (receiver->listener.joinable()) receiver->listener.join();
    close(receiver->listenFd);  // from here on, connecting is refused
    receiver->listenFd = -1;

    if (!(deadline_seconds > 0)) deadline_seconds = 0;  // also NaN
    if (deadline_seconds > kMaxTimeout) deadline_seconds = kMaxTimeout;
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(deadline_seconds));
    int aborted = 0;
    {
        std::unique_lock<std::mutex> guard(receiver->lock);
        receiver->connectionEnded.wait_until(guard, deadline, [receiver] {
            for (const auto &connection : receiver->connections) {
                if (!connection->finished) return false;
            }
            return true;
        });
        // Cut the rest: their threads see the network close, abort and clean up.
        for (const auto &connection : receiver->connections) {
            if (connection->finished) continue;
            std::lock_guard<std::mutex> fdGuard(connection->fdLock);
            if (connection->fd >= 0) shutdown(connection->fd, SHUT_RDWR);
            if (connection->associated) ++aborted;
        }
    }
    for (const auto &connection : receiver->connections) connection->thread.join();
    delete receiver;
    return aborted;
}

}  // extern "C"
