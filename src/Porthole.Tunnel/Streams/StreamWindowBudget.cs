namespace Porthole.Tunnel.Streams;

/// <summary>
/// How much receive window one process gives streams beyond the protocol's starting window, summed over every stream
/// of every connection open at once. The window is what a receiver may have to hold for a stream whose reader stalls:
/// at <see cref="MuxStream.Window"/> (4 MiB) per stream, a user with fifty sessions to fast devices and clients that
/// stop reading would pin 200 MiB in the server. A stream that opens while the budget is spent keeps
/// <see cref="MuxStream.InitialWindow"/>, as every stream did before the window was widened; what a widened stream took
/// comes back when it ends (docs/design/agent-streams.md, "Credit").
/// </summary>
public sealed class StreamWindowBudget
{
    /// <summary>The default: 256 MiB, sixty-four widened streams at once.</summary>
    public const long DefaultBytes = 256L * 1024 * 1024;

    private long _available;

    public StreamWindowBudget(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        _available = bytes;
    }

    /// <summary>The process's budget where no other is given (the agent's, and the tests').</summary>
    public static StreamWindowBudget Shared { get; } = new(DefaultBytes);

    /// <summary>Bytes of window still to give.</summary>
    public long Available => Volatile.Read(ref _available);

    /// <summary>Takes <paramref name="bytes"/> if all of them are there; a stream is widened in full or not at all.</summary>
    public bool TryTake(long bytes)
    {
        var available = Volatile.Read(ref _available);
        while (available >= bytes)
        {
            var seen = Interlocked.CompareExchange(ref _available, available - bytes, available);
            if (seen == available)
            {
                return true;
            }

            available = seen;
        }

        return false;
    }

    /// <summary>Gives back what a stream took, once it has ended.</summary>
    public void Return(long bytes) => Interlocked.Add(ref _available, bytes);
}
