import Foundation

/// Runs CPU-bound test work on a thread of its own and returns its result.
///
/// The cooperative pool has one thread per core (two on CI machines). A test that computes for
/// seconds on it starves every timing-sensitive test in the same process, so heavy work runs here
/// and the test makes its expectations on the returned value (issues recorded off the test's task
/// would not be attributed to it).
func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: work()) }.start()
    }
}

/// The CPU time the calling thread spends in `body`: what a complexity bound is about. Wall time
/// on a two-core machine running the whole suite measures the other tests as much as this one.
func threadCPUTime(_ body: () -> Void) -> Duration {
    func now() -> Duration {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return .seconds(t.tv_sec) + .nanoseconds(t.tv_nsec)
    }
    let start = now()
    body()
    return now() - start
}
