// hf_receiver.h — a DICOM receiver (C-STORE SCP and C-ECHO SCP) on DCMTK's dcmnet, for `hounsfield serve`.
//
// The receiver listens on its own thread and serves each association on a thread of its own. Every instance is
// written to the spool directory exactly as it arrived (File Meta Information, then the data set bytes as received:
// compressed pixel data stays compressed), flushed and fsynced, and only then handed to the store callback. The
// status the callback returns is the status the sender gets: the rule is write, fsync, record, then acknowledge.
//
// File ownership:
// - Before the callback is called, the file belongs to the receiver. It is written as `<name>.dcm.part`, fsynced,
//   its header read back (see `hf_received_instance`), renamed to `<name>.dcm` and the directory fsynced. A write, fsync or rename failure deletes the file and answers
//   0xA700 (out of resources) without calling the callback. A `.part` file left in the spool is from a crash: garbage.
// - Once the callback is called, the file belongs to the callback if it returns success or a warning (0x0000,
//   0x0001, 0xBxxx). For any other status the receiver deletes the file (if still there) after the callback returns
//   and before answering, so a refused instance never lingers; a callback that wants to keep a refused file moves it
//   elsewhere first.
//
// Statuses: the receiver sends exactly what the callback returns; return final statuses only (0x0000 success,
// 0xA700 out of resources when the journal cannot record, 0xA900 data set does not match SOP class, 0xC000–0xCFFF
// cannot understand, 0xB000/0xB006/0xB007 warnings). The receiver answers on its own only when the callback is never
// reached: 0xA700 when the file cannot be written, 0xC000 when the written data set cannot be parsed, lacks a Study
// or Series Instance UID, or is not the SOP instance the request announced, and 0x0122 when the command's SOP class
// is not the one negotiated; the file is removed in each case.
//
// Threading: the store and log callbacks are called concurrently from up to `max_associations` association threads
// and must be thread-safe. They must return; `hf_receiver_stop` waits for callbacks in progress.
//
// Process-wide effects (DCMTK's, once): SIGPIPE is ignored (DCMTK does this on its first network use), reverse DNS
// lookups of peers are disabled, and DCMTK's own logging is limited to fatal messages (we report through `log`).
// Several receivers may run in one process, and a receiver may be started again after it was stopped.
//
// Network: IPv4 only (DCMTK 3.6.7's acceptor is IPv4). No TLS.

#ifndef HF_RECEIVER_H
#define HF_RECEIVER_H

#include <stddef.h>
#include <stdint.h>

#include "hf_dicom.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Settings of a receiver. Zero (or NULL) selects the default that each field names.
typedef struct hf_receiver_config {
    /// Our AE title (1–16 characters). Associations that call another AE title are rejected.
    const char *ae_title;
    /// IPv4 address to listen on, e.g. "0.0.0.0" (all interfaces) or "127.0.0.1". NULL or "" = "0.0.0.0".
    const char *bind_address;
    /// TCP port; 0 picks a free one (read it back with `hf_receiver_bound_port`).
    uint16_t port;
    /// Calling AE titles allowed to associate; a count of 0 allows every calling AE title.
    const char *const *allowed_calling_ae_titles;
    size_t allowed_calling_ae_title_count;
    /// Associations served at once (default 16). Beyond it, associations are rejected at once (transient,
    /// "local limit exceeded") instead of waiting.
    uint32_t max_associations;
    /// Largest PDU we receive, 4096–131072 bytes (default 16384).
    uint32_t max_pdu_size;
    /// ARTIM/ACSE timeout (default 30 s): how long a new connection may take to send its association request.
    uint32_t acse_timeout_seconds;
    /// DIMSE timeout (default 60 s): how long an association may stay silent, between or within messages, before it
    /// is aborted.
    uint32_t dimse_timeout_seconds;
    /// Existing, writable directory that incoming instances are written to.
    const char *spool_directory;
} hf_receiver_config;

/// One instance received and written. Every pointer is valid only during the callback.
typedef struct hf_received_instance {
    const char *calling_ae_title;
    /// The peer's IPv4 address.
    const char *peer_address;
    /// Read from the data set's header (parsed up to Pixel Data); the SOP Class and Instance UIDs are checked to be
    /// the ones the C-STORE request announced.
    const char *sop_class_uid;
    const char *sop_instance_uid;
    const char *study_instance_uid;
    const char *series_instance_uid;
    /// The negotiated transfer syntax the data set was sent in, and is stored in.
    const char *transfer_syntax_uid;
    /// spool_directory + "/" + "<SOP Instance UID>.<random token>-<n>.dcm": the complete, fsynced DICOM file.
    const char *path;
    /// Its size in bytes.
    uint64_t size;
    /// Numbers the associations of this receiver from 1, for logs.
    uint64_t association_id;
} hf_received_instance;

/// Records the instance (durably) and returns the DIMSE status to answer; see the ownership rules above.
typedef uint16_t (*hf_receiver_store_fn)(void *context, const hf_received_instance *instance);

typedef enum hf_receiver_log_level {
    HF_RECEIVER_LOG_INFO = 0,
    HF_RECEIVER_LOG_WARNING = 1,
    HF_RECEIVER_LOG_ERROR = 2
} hf_receiver_log_level;

/// Notable events (rejections, aborts, write failures) in plain words. Optional.
typedef void (*hf_receiver_log_fn)(void *context, hf_receiver_log_level level, const char *message);

/// Counters since start, for metrics. Read with `hf_receiver_get_counters` (each value is read atomically).
typedef struct hf_receiver_counters {
    uint64_t associations_open;      ///< accepted and not yet ended (a gauge)
    uint64_t associations_accepted;
    uint64_t associations_rejected;  ///< AE title, limit, stopping, or no valid association request
    uint64_t associations_aborted;   ///< ended by an abort (either side, a timeout, or the stop deadline)
    uint64_t echoes;
    uint64_t instances_stored;       ///< the callback returned success or a warning
    uint64_t instances_failed;       ///< any other outcome of a C-STORE request
    uint64_t bytes_stored;           ///< file bytes of the stored instances
} hf_receiver_counters;

typedef struct hf_receiver hf_receiver;

/// Binds, listens and returns at once; associations are served on the receiver's threads until
/// `hf_receiver_stop`. `log` and `context` may be NULL. On failure `*out` is NULL and `error` says why
/// (HF_ERR_ARGUMENT for a bad configuration, HF_ERR_IO for socket, bind or spool problems).
hf_status hf_receiver_start(const hf_receiver_config *config, hf_receiver_store_fn store, hf_receiver_log_fn log,
                            void *context, hf_receiver **out, hf_error *error);

/// The TCP port the receiver listens on.
uint16_t hf_receiver_bound_port(const hf_receiver *receiver);

void hf_receiver_get_counters(const hf_receiver *receiver, hf_receiver_counters *counters);

/// Stops accepting associations at once (the listening socket is closed; requests not yet negotiated are dropped),
/// lets associations in progress finish for up to `deadline_seconds`, then aborts the rest (a callback in progress
/// is waited for), joins every thread and frees the receiver. Returns how many associations were aborted at the
/// deadline. NULL is ignored.
int hf_receiver_stop(hf_receiver *receiver, double deadline_seconds);

#ifdef __cplusplus
}
#endif

#endif
