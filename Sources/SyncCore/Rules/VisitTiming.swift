import Foundation

/// How often an active visit is re-synced, and the cap on short visits.
public struct VisitTimingPolicy: Sendable, Hashable, Codable {
    /// The re-sync interval (10 minutes by default); also how long without activity ends a visit.
    public var interval: TimeInterval
    /// How many times a visit shorter than ``interval`` is synced at most (2).
    public var maximumSyncsForShortVisit: Int

    /// Creates a policy.
    public init(interval: TimeInterval = 600, maximumSyncsForShortVisit: Int = 2) {
        self.interval = interval
        self.maximumSyncsForShortVisit = maximumSyncsForShortVisit
    }
}

/// The latest known progress of a visit, from its newest `visit.updated`.
public struct VisitProgress: Sendable, Hashable, Codable {
    /// `duration_seconds`
    public var durationSeconds: Int
    /// `percent_viewed`, 0…100.
    public var percentViewed: Double
    /// `last_activity_at`
    public var lastActivityAt: Date
    /// `ended`
    public var ended: Bool

    /// Creates progress.
    public init(durationSeconds: Int, percentViewed: Double, lastActivityAt: Date, ended: Bool) {
        self.durationSeconds = durationSeconds
        self.percentViewed = percentViewed
        self.lastActivityAt = lastActivityAt
        self.ended = ended
    }

    /// The progress a `visit.updated` reports.
    public init(_ update: VisitUpdated) {
        self.init(
            durationSeconds: update.durationSeconds, percentViewed: update.percentViewed,
            lastActivityAt: update.lastActivityAt, ended: update.ended)
    }

    /// Whether this progress replaces `other`: a later `last_activity_at`; at the same instant, the larger
    /// of (ended, duration, percent), so that applying the same updates in any order gives the same result.
    public func supersedes(_ other: VisitProgress) -> Bool {
        if lastActivityAt != other.lastActivityAt { return lastActivityAt > other.lastActivityAt }
        return (ended ? 1 : 0, durationSeconds, percentViewed)
            > (other.ended ? 1 : 0, other.durationSeconds, other.percentViewed)
    }
}

/// The values a visit Task shows that change over the visit: what a re-sync compares.
public struct SyncedVisitValues: Sendable, Hashable, Codable {
    /// Duration in seconds.
    public var durationSeconds: Int
    /// Percent viewed.
    public var percentViewed: Double

    /// Creates values.
    public init(durationSeconds: Int, percentViewed: Double) {
        self.durationSeconds = durationSeconds
        self.percentViewed = percentViewed
    }
}

/// What to do after an event was applied to a visit's state.
public enum VisitEventOutcome: Sendable, Hashable {
    /// Sync the Task now (create it on the first sync, ``VisitSyncState/hasTask``, else update it), then call
    /// ``VisitSyncState/recordSync(_:at:policy:)``.
    case syncNow
    /// Kept in the state; the next tick (or the `visit.started`, not yet seen) will use it.
    case stored
    /// A duplicate or an older event: nothing changed.
    case ignored
}

/// What to schedule after a sync or a tick.
public enum VisitNextStep: Sendable, Hashable {
    /// Publish re-sync tick number `sequence`, due at `dueAt` (one interval from now).
    case tick(sequence: Int, dueAt: Date)
    /// The visit is over and its Task is final: no more ticks.
    case finished
}

/// What to do at a re-sync tick.
public enum VisitTickDecision: Sendable, Hashable {
    /// Not the tick the state awaits (a duplicate, a stale one, or the visit is finished): drop it.
    case ignore
    /// Update the Task with the state's current values, then call ``VisitSyncState/recordSync(_:at:policy:)``
    /// (which says what to schedule).
    case sync
    /// Nothing changed: schedule this (a new tick, or nothing when finished).
    case next(VisitNextStep)
}

/// One visit's sync state, kept by the store between events and ticks (design §1 "Timing").
///
/// Rules: a visit is synced immediately when its `visit.started` is seen, then at every tick (one re-sync
/// interval apart) while active, and only when duration or percent differ from what was last synced. A visit
/// is active until an update says `ended`, or until one interval passes without activity. A visit shorter
/// than the interval is synced at most twice. Every sync writes the same Task (upsert by visit id).
/// Out-of-order and duplicate events are absorbed: updates may precede the start, an older update never
/// replaces a newer one (by `last_activity_at`), a repeated start does nothing.
///
/// The worker keeps this value in the store, applies each event (``apply(_:policy:)``), runs each tick
/// (``tick(_:now:policy:)``), and after each successful Task write calls ``recordSync(_:at:policy:)``.
public struct VisitSyncState: Sendable, Hashable {
    /// `visit_id`
    public var visitID: String
    /// The `visit.started` data, once seen.
    public var started: VisitStarted?
    /// The newest progress seen.
    public var latest: VisitProgress?
    /// The values the Task shows, after the last sync.
    public var lastSynced: SyncedVisitValues?
    /// How many times the Task was written.
    public var syncCount: Int
    /// When the Task was last written.
    public var lastSyncAt: Date?
    /// The tick the state awaits; other ticks are ignored.
    public var pendingTick: Int?
    /// When that tick is due.
    public var nextTickAt: Date?
    /// How many ticks were scheduled (numbers them).
    public var ticksScheduled: Int
    /// The visit is over and its Task final.
    public var isFinished: Bool

    /// A visit not seen yet.
    public init(visitID: String) {
        self.visitID = visitID
        self.syncCount = 0
        self.ticksScheduled = 0
        self.isFinished = false
    }

    /// Whether the Task exists (a later sync updates it rather than creates it).
    public var hasTask: Bool { syncCount > 0 }

    /// The values a sync now would write: the latest progress, or zero before any update.
    public var currentValues: SyncedVisitValues {
        SyncedVisitValues(
            durationSeconds: latest?.durationSeconds ?? 0, percentViewed: latest?.percentViewed ?? 0)
    }

    /// The last moment of activity: the newest `last_activity_at`, or the start.
    public var lastActivityAt: Date? {
        guard let started else { return latest?.lastActivityAt }
        guard let latest else { return started.startedAt }
        return max(latest.lastActivityAt, started.startedAt)
    }

    /// The visit's length so far, in seconds: its reported duration or its span from start to last activity,
    /// whichever is longer.
    public var length: TimeInterval {
        let span = started.flatMap { started in lastActivityAt.map { $0.timeIntervalSince(started.startedAt) } } ?? 0
        return max(Double(latest?.durationSeconds ?? 0), span)
    }

    /// Whether the visit is still active at `now`: not ended, and some activity within the last interval.
    public func isActive(at now: Date, policy: VisitTimingPolicy) -> Bool {
        guard started != nil, !(latest?.ended ?? false), let lastActivityAt else { return false }
        return now.timeIntervalSince(lastActivityAt) < policy.interval
    }

    /// Whether another write is allowed: a visit shorter than the interval is written at most
    /// ``VisitTimingPolicy/maximumSyncsForShortVisit`` times.
    public func maySyncAgain(policy: VisitTimingPolicy) -> Bool {
        length >= policy.interval || syncCount < policy.maximumSyncsForShortVisit
    }

    /// Whether the Task shows other values than the state's (and another write is allowed).
    public func needsSync(policy: VisitTimingPolicy) -> Bool {
        started != nil && lastSynced != currentValues && maySyncAgain(policy: policy)
    }

    /// Applies an event of this visit (events of other visits and of other types are ignored).
    public mutating func apply(_ payload: Event.Payload, policy: VisitTimingPolicy = .init())
        -> VisitEventOutcome
    {
        switch payload {
        case .visitStarted(let started) where started.visitID == visitID:
            return apply(started)
        case .visitUpdated(let update) where update.visitID == visitID:
            return apply(update, policy: policy)
        default:
            return .ignored
        }
    }

    /// Applies a `visit.started`: the first one syncs now, repeats are ignored.
    public mutating func apply(_ started: VisitStarted) -> VisitEventOutcome {
        guard self.started == nil, started.visitID == visitID else { return .ignored }
        self.started = started
        return .syncNow
    }

    /// Applies a `visit.updated`: kept when newer than the latest progress (``VisitProgress/supersedes(_:)``).
    /// A newer update of a finished visit whose Task exists and shows other values syncs again now (a late
    /// final update); a visit finished without a Task (``finish()``) stays quiet.
    public mutating func apply(_ update: VisitUpdated, policy: VisitTimingPolicy = .init()) -> VisitEventOutcome {
        guard update.visitID == visitID else { return .ignored }
        let progress = VisitProgress(update)
        if let latest, !progress.supersedes(latest) { return .ignored }
        latest = progress
        guard started != nil else { return .stored }
        if isFinished && hasTask && needsSync(policy: policy) {
            isFinished = false
            return .syncNow
        }
        return .stored
    }

    /// Records a successful Task write of `values` at `now`, and says what to schedule next: a tick while the
    /// visit is active or the Task lags the state, else nothing.
    public mutating func recordSync(_ values: SyncedVisitValues, at now: Date, policy: VisitTimingPolicy = .init())
        -> VisitNextStep
    {
        lastSynced = values
        syncCount += 1
        lastSyncAt = now
        return scheduleOrFinish(now: now, policy: policy)
    }

    /// Stops the visit's re-syncs for good: the visit was not synced (``VisitRoute/notSynced(_:)``), or the team
    /// turned visit sync off. Later ticks are ignored and later updates only stored.
    public mutating func finish() {
        isFinished = true
        pendingTick = nil
        nextTickAt = nil
    }

    /// Runs tick `sequence` at `now`.
    public mutating func tick(_ sequence: Int, now: Date, policy: VisitTimingPolicy = .init()) -> VisitTickDecision {
        guard !isFinished, started != nil, pendingTick == sequence else { return .ignore }
        if needsSync(policy: policy) { return .sync }
        return .next(scheduleOrFinish(now: now, policy: policy))
    }

    /// Replaces the awaited tick when it is overdue by more than `grace` (the longest a tick can take through
    /// the retry tiers): that tick was lost (parked after its retries, purged), and without a new one the visit
    /// would never be written again. Returns the tick to schedule, or `nil` when the awaited tick may still come.
    /// Should the old tick come after all, it is ignored (only the new number counts).
    public mutating func replaceOverdueTick(now: Date, grace: TimeInterval, policy: VisitTimingPolicy = .init())
        -> VisitNextStep?
    {
        guard !isFinished, pendingTick != nil, let due = nextTickAt, now.timeIntervalSince(due) > grace else {
            return nil
        }
        ticksScheduled += 1
        let next = now.addingTimeInterval(policy.interval)
        pendingTick = ticksScheduled
        nextTickAt = next
        return .tick(sequence: ticksScheduled, dueAt: next)
    }

    private mutating func scheduleOrFinish(now: Date, policy: VisitTimingPolicy) -> VisitNextStep {
        if isActive(at: now, policy: policy) || needsSync(policy: policy) {
            ticksScheduled += 1
            let due = now.addingTimeInterval(policy.interval)
            pendingTick = ticksScheduled
            nextTickAt = due
            return .tick(sequence: ticksScheduled, dueAt: due)
        }
        isFinished = true
        pendingTick = nil
        nextTickAt = nil
        return .finished
    }
}
