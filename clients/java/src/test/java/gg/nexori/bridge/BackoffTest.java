package gg.nexori.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class BackoffTest {
    /** A generator that always answers the largest value allowed. */
    static final RandomGenerator MAX = new RandomGenerator() {
        @Override public long nextLong() { return Long.MAX_VALUE; }
        @Override public long nextLong(long bound) { return bound - 1; }
    };
    static final RandomGenerator MIN = new RandomGenerator() {
        @Override public long nextLong() { return 0; }
        @Override public long nextLong(long bound) { return 0; }
    };

    @Test
    void ceilingDoublesUpToTheMaximum() {
        Backoff b = new Backoff(100, 5_000, MAX);
        long[] want = {100, 200, 400, 800, 1600, 3200, 5000, 5000};
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], b.ceiling(i));
            assertEquals(want[i], b.delay(i));
        }
        assertEquals(5000, b.ceiling(61));
        assertEquals(5000, b.ceiling(62));
        assertEquals(5000, b.ceiling(Integer.MAX_VALUE));
        assertEquals(Long.MAX_VALUE / 2, new Backoff(1, Long.MAX_VALUE / 2, MAX).ceiling(100));
        assertEquals(0, new Backoff(100, 5_000, MIN).delay(3));
    }

    @Test
    void fullJitterStaysWithinBoundsAndSpreads() {
        Backoff b = new Backoff(250, 30_000, new SplittableRandom(42));
        for (int attempt = 0; attempt < 20; attempt++) {
            long ceiling = b.ceiling(attempt);
            long min = Long.MAX_VALUE, max = 0;
            for (int i = 0; i < 2000; i++) {
                long d = b.delay(attempt);
                assertTrue(d >= 0 && d <= ceiling, () -> d + " outside [0, " + ceiling + "]");
                min = Math.min(min, d);
                max = Math.max(max, d);
            }
            assertTrue(min < ceiling / 10, "jitter reaches near zero");
            assertTrue(max > ceiling * 9 / 10, "jitter reaches near the ceiling");
        }
    }

    @Test
    void rejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new Backoff(0, 10, MAX));
        assertThrows(IllegalArgumentException.class, () -> new Backoff(100, 10, MAX));
    }
}
