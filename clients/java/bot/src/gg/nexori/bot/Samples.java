package gg.nexori.bot;

import java.util.Arrays;

/**
 * Latency samples in nanoseconds, kept exactly (not bucketed) up to a cap, for exact percentiles.
 * Not thread-safe: each game server records into its own and the run merges them at the end.
 */
final class Samples {
    /** Beyond this many samples per recorder, samples are counted but not kept (about 8 MB). */
    static final int CAP = 1 << 20;

    private long[] values = new long[1024];
    private int size;
    private long overflow;

    void record(long nanos) {
        if (size == CAP) {
            overflow++;
            return;
        }
        if (size == values.length) {
            values = Arrays.copyOf(values, Math.min(CAP, values.length * 2));
        }
        values[size++] = nanos;
    }

    int size() {
        return size;
    }

    long overflow() {
        return overflow;
    }

    /** All samples of {@code parts} together, sorted. */
    static Summary summarize(Iterable<Samples> parts) {
        int total = 0;
        long overflow = 0;
        for (Samples s : parts) {
            total += s.size;
            overflow += s.overflow;
        }
        long[] all = new long[total];
        int at = 0;
        for (Samples s : parts) {
            System.arraycopy(s.values, 0, all, at, s.size);
            at += s.size;
        }
        Arrays.sort(all);
        return new Summary(all, overflow);
    }

    /** Percentiles of sorted samples, in microseconds. */
    record Summary(long[] sorted, long overflow) {
        int count() {
            return sorted.length;
        }

        /** The smallest sample with at least {@code p} percent of the samples at or below it. */
        double percentileMicros(double p) {
            if (sorted.length == 0) {
                return Double.NaN;
            }
            int rank = (int) Math.ceil(p / 100.0 * sorted.length);
            return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))] / 1000.0;
        }

        double maxMicros() {
            return sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1] / 1000.0;
        }
    }
}
