package gg.nexori.bridge;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Where the client runs its work: connection handling, sending, listener calls. Must run tasks
 * one at a time in submission order (a single thread). Internal: tests use a virtual-time fake.
 */
interface Scheduler {
    void execute(Runnable task);

    Cancellable schedule(Runnable task, long delayMillis);

    interface Cancellable {
        void cancel();
    }

    /** Adapts a (single-threaded) {@link ScheduledExecutorService}. */
    static Scheduler of(ScheduledExecutorService executor) {
        return new Scheduler() {
            @Override
            public void execute(Runnable task) {
                try {
                    executor.execute(task);
                } catch (RejectedExecutionException e) {
                    // shut down: the client is closed, the task no longer matters
                }
            }

            @Override
            public Cancellable schedule(Runnable task, long delayMillis) {
                try {
                    ScheduledFuture<?> f = executor.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
                    return () -> f.cancel(false);
                } catch (RejectedExecutionException e) {
                    return () -> {};
                }
            }
        };
    }
}
