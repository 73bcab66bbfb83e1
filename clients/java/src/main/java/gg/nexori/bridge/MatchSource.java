package gg.nexori.bridge;

/** {@code matchSource} of {@code match.create}; the host's default is {@link #LOCAL_FIFO}. */
public enum MatchSource { LOCAL_FIFO, BACKEND_DRIVEN }
