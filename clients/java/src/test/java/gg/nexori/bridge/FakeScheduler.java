package gg.nexori.bridge;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/** A virtual-time scheduler: tasks run only when the test calls {@link #runDue()} or {@link #advance}. */
final class FakeScheduler implements Scheduler {
    private record Task(long at, long seq, Runnable run, boolean[] cancelled) {}

    private final PriorityQueue<Task> tasks = new PriorityQueue<>((a, b) ->
            a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.seq, b.seq));
    private long now;
    private long seq;
    /** Delays passed to schedule(), in order. */
    final List<Long> scheduledDelays = new ArrayList<>();

    @Override
    public synchronized void execute(Runnable task) {
        tasks.add(new Task(now, seq++, task, new boolean[1]));
    }

    @Override
    public synchronized Cancellable schedule(Runnable task, long delayMillis) {
        scheduledDelays.add(delayMillis);
        boolean[] cancelled = new boolean[1];
        tasks.add(new Task(now + delayMillis, seq++, task, cancelled));
        return () -> cancelled[0] = true;
    }

    long now() {
        return now;
    }

    /** Runs every task due now, including those they add for now. */
    void runDue() {
        while (true) {
            Task t;
            synchronized (this) {
                t = tasks.peek();
                if (t == null || t.at > now) {
                    return;
                }
                tasks.poll();
            }
            if (!t.cancelled[0]) {
                t.run.run();
            }
        }
    }

    /** Moves time forward by {@code millis}, running what falls due in time order. */
    void advance(long millis) {
        long end = now + millis;
        while (true) {
            runDue();
            Task t;
            synchronized (this) {
                t = tasks.peek();
                if (t == null || t.at > end) {
                    now = end;
                    break;
                }
                now = t.at;
            }
        }
        runDue();
    }

    /** Pending, not cancelled, tasks in the future. */
    synchronized long pendingTimers() {
        return tasks.stream().filter(t -> !t.cancelled[0] && t.at > now).count();
    }
}
