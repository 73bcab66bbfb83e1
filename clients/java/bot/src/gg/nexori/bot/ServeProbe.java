package gg.nexori.bot;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads {@code nexori serve} from outside: its CPU time and memory from {@code /proc/PID} (the
 * kernel's accounting of that process alone, so the bot sharing the cores does not count) and
 * what the host says it handled from {@code /metrics}.
 */
final class ServeProbe {
    /** Metrics whose totals the report compares between the start and the end of the window. */
    static final String[] COUNTERS = {
        "nexori_game_events_total",
        "nexori_game_event_calls_total",
        "nexori_game_commands_total",
        "nexori_bridge_errors_total",
        "nexori_faults_total",
        "nexori_bridge_commands_dropped_total",
        "nexori_bridge_slow_reader_disconnects_total",
        "nexori_results_total",
    };

    /** One reading. CPU in clock ticks; memory in KiB; counters summed over their labels. */
    record Reading(long nanos, long cpuTicks, long rssKib, long hwmKib, Map<String, Double> counters) {}

    private final long pid;
    private final URI metrics;
    private final long ticksPerSecond;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    ServeProbe(long pid, URI metrics) {
        this.pid = pid;
        this.metrics = metrics;
        this.ticksPerSecond = clockTicksPerSecond();
    }

    long ticksPerSecond() {
        return ticksPerSecond;
    }

    /**
     * @throws IOException naming the file or URL that could not be read or parsed
     */
    Reading read() throws IOException, InterruptedException {
        long now = System.nanoTime();
        long cpu = 0;
        long rss = 0;
        long hwm = 0;
        if (pid > 0) {
            cpu = cpuTicks(pid);
            Path status = Path.of("/proc", Long.toString(pid), "status");
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmRSS:")) {
                    rss = kib(line, status);
                } else if (line.startsWith("VmHWM:")) {
                    hwm = kib(line, status);
                }
            }
        }
        Map<String, Double> counters = new TreeMap<>();
        if (metrics != null) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IOException("GET " + metrics + " answered " + r.statusCode() + ": " + r.body());
            }
            counters = sumCounters(r.body());
        }
        return new Reading(now, cpu, rss, hwm, counters);
    }

    /** Sums each of {@link #COUNTERS} over its label sets in Prometheus text. */
    static Map<String, Double> sumCounters(String text) {
        Map<String, Double> sums = new TreeMap<>();
        for (String name : COUNTERS) {
            sums.put(name, 0.0);
        }
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int end = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            if (space < 0) {
                continue;
            }
            String name = line.substring(0, end >= 0 ? end : space);
            if (sums.containsKey(name)) {
                sums.merge(name, Double.parseDouble(line.substring(space + 1)), Double::sum);
            }
        }
        return sums;
    }

    /**
     * User plus system CPU time of process {@code pid}, in clock ticks, from {@code /proc/PID/stat}.
     *
     * @throws IOException naming the file when it cannot be read or parsed
     */
    static long cpuTicks(long pid) throws IOException {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        String s = Files.readString(stat);
        // Fields after the command name, which is in parentheses and may hold spaces.
        String[] f = s.substring(s.lastIndexOf(')') + 2).trim().split(" ");
        try {
            return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
        } catch (RuntimeException e) {
            throw new IOException("cannot read utime and stime from " + stat + ": " + s, e);
        }
    }

    private static long kib(String line, Path file) throws IOException {
        String[] f = line.trim().split("\\s+");
        if (f.length < 3 || !"kB".equals(f[2])) {
            throw new IOException("unexpected line in " + file + ": " + line);
        }
        return Long.parseLong(f[1]);
    }

    /** {@code getconf CLK_TCK}: the unit of utime and stime (100 on every Linux seen). */
    static long clockTicksPerSecond() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (p.waitFor() == 0) {
                return Long.parseLong(out);
            }
        } catch (IOException | NumberFormatException e) {
            // fall through to the Linux default
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 100;
    }
}
