import DequeModule

/// The admission of study requests as a plain value (the channel's pattern: every transition a method that says
/// what the caller must do; tested without tasks or timing). A request is *admitted* before its body is read, or
/// refused at once when `processingLimit + waitingLimit` are already admitted; it then *waits* (uploading, then for
/// its turn) until one of `processingLimit` slots is free, first come first served, and *processes*.
struct AdmissionStateMachine {
    /// Studies processed at once.
    let processingLimit: Int
    /// Admitted requests beyond those processing.
    let waitingLimit: Int
    /// Requests processing now.
    private(set) var processing = 0
    /// Admitted requests not processing (uploading, or queued for a slot).
    private(set) var waiting = 0
    /// Requests queued for a slot, in arrival order, by id.
    private(set) var queue: Deque<Int> = []

    /// A gate of these limits.
    init(processingLimit: Int, waitingLimit: Int) {
        self.processingLimit = processingLimit
        self.waitingLimit = waitingLimit
    }

    /// A new request: admitted (it now waits), or refused.
    mutating func admit() -> Bool {
        guard processing + waiting < processingLimit + waitingLimit else { return false }
        waiting += 1
        return true
    }

    /// What an admitted request asking for a slot must do.
    enum SlotAction: Equatable {
        /// Process now.
        case proceed
        /// Suspend until ``finishProcessing()`` or ``cancel(id:)`` names it.
        case suspend
    }

    /// An admitted request (`id`) asks for a processing slot.
    mutating func requestSlot(id: Int) -> SlotAction {
        if processing < processingLimit && queue.isEmpty {
            processing += 1
            waiting -= 1
            return .proceed
        }
        queue.append(id)
        return .suspend
    }

    /// A request finished processing; returns the id of the queued one to resume, which now processes.
    mutating func finishProcessing() -> Int? {
        processing -= 1
        guard processing < processingLimit, let next = queue.popFirst() else { return nil }
        processing += 1
        waiting -= 1
        return next
    }

    /// An admitted request leaves without processing (its upload failed, or its answer was replayed).
    mutating func leaveWaiting() {
        waiting -= 1
    }

    /// A queued request is cancelled: true when it was still queued (resume it with an error; it no longer counts),
    /// false when it was already given a slot (it will see the slot and must finish processing).
    mutating func cancel(id: Int) -> Bool {
        guard let index = queue.firstIndex(of: id) else { return false }
        queue.remove(at: index)
        waiting -= 1
        return true
    }
}
