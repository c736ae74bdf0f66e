using System.Net;

namespace Porthole.Tunnel.Transport;

/// <summary>
/// Keeps one idle connection to the server, TCP and TLS handshakes done, in an HTTP handler's pool, so that the next
/// session's request finds it instead of dialling. A data WebSocket's upgrade takes over the connection it runs on,
/// so without a spare every session paid a full TCP + TLS set-up on its critical path, once in the agent and once in
/// the CLI (docs/performance.md, "Session set-up"). Call <see cref="Refill"/> once a session has carried bytes both
/// ways (<see cref="Relay.StreamTunnel"/>'s <c>afterFirstExchange</c>), not as soon as its data WebSocket is up: the
/// spare's TLS handshake costs a few milliseconds of CPU in this process and the server, which on a small machine
/// delayed the session's own first bytes. The spare is made by a <c>GET /healthz</c> (anonymous, touches no database)
/// whose connection then stays in the pool.
/// </summary>
/// <remarks>
/// Nothing depends on the spare being there. The pool drops it after its idle timeout
/// (<see cref="ServerTrust.CreateHandler()"/>: 1 min, below the server's 2 min keep-alive), checks that the server has
/// not closed it before reusing it, and retries a request on a fresh connection when a reused one fails before any
/// answer. So a process that opened no session for a minute holds no spare and pays the handshakes again, and an
/// idle agent costs the server nothing extra. At most one refill runs at a time.
/// </remarks>
public sealed class SpareConnection
{
    /// <summary>How long a refill may take before it is abandoned; it only ever costs a wasted connection.</summary>
    private static readonly TimeSpan RefillTimeout = TimeSpan.FromSeconds(30);

    private readonly HttpMessageInvoker _invoker;
    private readonly Uri _probe;
    private int _refilling;

    /// <summary>Creates a spare keeper for <paramref name="server"/> (an http(s) base address) in <paramref name="invoker"/>'s pool.</summary>
    public SpareConnection(HttpMessageInvoker invoker, Uri server)
    {
        _invoker = invoker;
        _probe = new Uri(server, "/healthz");
    }

    /// <summary>Starts making a spare in the background unless one is being made already. Never throws.</summary>
    public void Refill()
    {
        if (Interlocked.Exchange(ref _refilling, 1) == 1)
        {
            return;
        }

        _ = RefillAsync();
    }

    /// <summary>Makes a spare now; completes when it is in the pool or the attempt failed (which is not an error).</summary>
    public async Task RefillAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(RefillTimeout);
            using var request = new HttpRequestMessage(HttpMethod.Get, _probe)
            {
                Version = HttpVersion.Version11,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            using var response = await _invoker.SendAsync(request, timeout.Token).ConfigureAwait(false);

            // Reading the body to its end is what hands the connection back to the pool.
            await response.Content.CopyToAsync(Stream.Null, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // No spare this time (or the process is shutting its handler down): the next session dials as it would have.
        }
        finally
        {
            Volatile.Write(ref _refilling, 0);
        }
    }
}
