package gg.nexori.bridge;

import java.util.random.RandomGenerator;

/**
 * Exponential backoff with full jitter: the delay before attempt {@code n} (0-based, counting
 * failures since the last successful connection) is uniform in {@code [0, min(max, initial * 2^n)]}.
 */
final class Backoff {
    private final long initialMillis;
    private final long maxMillis;
    private final RandomGenerator random;

    Backoff(long initialMillis, long maxMillis, RandomGenerator random) {
        if (initialMillis <= 0 || maxMillis < initialMillis) {
            throw new IllegalArgumentException("need 0 < initial backoff <= max backoff");
        }
        this.initialMillis = initialMillis;
        this.maxMillis = maxMillis;
        this.random = random;
    }

    /** The upper bound of the delay before attempt {@code attempt}. */
    long ceiling(int attempt) {
        if (attempt >= 62 || initialMillis > (maxMillis >> Math.min(attempt, 62))) {
            return maxMillis;
        }
        return Math.min(maxMillis, initialMillis << attempt);
    }

    long delay(int attempt) {
        return random.nextLong(ceiling(attempt) + 1);
    }
}
