package gg.nexori.bridge;

/** {@code outcome} of {@code player.placed}; the host's default is {@link #CONFIRMED}. */
public enum PlacementOutcome { CONFIRMED, FALLBACK }
