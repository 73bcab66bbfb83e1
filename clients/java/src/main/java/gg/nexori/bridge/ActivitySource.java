package gg.nexori.bridge;

/** {@code source} of {@code player.activity}; the host's default is {@link #PLAYER_INPUT}. */
public enum ActivitySource { PLAYER_INPUT, INVENTORY_PACKET }
