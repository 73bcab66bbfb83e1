package gg.nexori.bridge;

/**
 * Counters of a {@link NexoriBridgeClient}, from {@link NexoriBridgeClient#stats()}.
 *
 * @param sent messages handed to the WebSocket
 * @param queued messages waiting to be sent now
 * @param queuedBytes UTF-16 length of the messages waiting now (an approximation of their size)
 * @param droppedQueueFull lifecycle messages dropped (oldest first) because the queue was full
 * @param droppedGameEvents {@code game.event}s dropped because the client was not connected
 * @param droppedTooLarge messages refused because they were longer than the size limit
 * @param droppedClosed messages refused, or left unsent, because the client was closed
 * @param connects successful connections
 * @param disconnects connections lost or attempts failed
 * @param commandsReceived commands dispatched to the listener (known and unknown)
 * @param errorReplies error replies dispatched to {@link BridgeListener#onError}
 */
public record BridgeStats(
        long sent,
        long queued,
        long queuedBytes,
        long droppedQueueFull,
        long droppedGameEvents,
        long droppedTooLarge,
        long droppedClosed,
        long connects,
        long disconnects,
        long commandsReceived,
        long errorReplies) {}
