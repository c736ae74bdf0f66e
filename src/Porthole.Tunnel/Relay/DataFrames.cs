using System.Text;

namespace Porthole.Tunnel.Relay;

/// <summary>
/// Framing of a data WebSocket. Binary messages carry the stream's bytes in order. A text message
/// <c>fin</c> means "the sender will send no more bytes" (TCP half-close), which WebSocket's own close
/// frame cannot express because it ends both directions. The close frame ends the session; its
/// description carries the reason a client can show.
/// </summary>
public static class DataFrames
{
    /// <summary>The half-close marker.</summary>
    public static ReadOnlyMemory<byte> Fin { get; } = Encoding.ASCII.GetBytes("fin");

    /// <summary>Largest text message a data WebSocket accepts.</summary>
    public const int MaxControlFrameBytes = 256;

    /// <summary>Default buffer size of a pump: big enough to fill a TLS record several times over.</summary>
    public const int DefaultBufferSize = 64 * 1024;

    /// <summary>Whether a text message is the half-close marker.</summary>
    public static bool IsFin(ReadOnlySpan<byte> text) => text.SequenceEqual(Fin.Span);

    /// <summary>
    /// Clips a close reason to what a WebSocket close frame can carry (123 bytes of UTF-8, RFC 6455 §5.5).
    /// </summary>
    public static string ClipReason(string reason)
    {
        const int MaxBytes = 123;
        if (Encoding.UTF8.GetByteCount(reason) <= MaxBytes)
        {
            return reason;
        }

        var end = reason.Length;
        while (end > 0 && Encoding.UTF8.GetByteCount(reason.AsSpan(0, end)) > MaxBytes - 3)
        {
            end--;
        }

        // Never cut between the two halves of a surrogate pair.
        if (end > 0 && char.IsHighSurrogate(reason[end - 1]))
        {
            end--;
        }

        return string.Concat(reason.AsSpan(0, end), "...");
    }
}
