namespace Porthole.Tunnel.Transport;

/// <summary>Nothing arrived from the peer for the keep-alive limit while we were waiting to read (see <see cref="KeepAliveSettings"/>).</summary>
public sealed class PeerSilentException(TimeSpan silence)
    : IOException($"no answer to keep-alive pings for {silence.TotalSeconds:0.#} s")
{
    public TimeSpan Silence { get; } = silence;
}
