using Microsoft.Extensions.Options;
using Porthole.Server.Agents;
using Porthole.Server.Relay;
using Porthole.Server.WebProxy;

namespace Porthole.Server.Hosting;

/// <summary>
/// Graceful stop (SIGTERM, Ctrl+C, a service manager): from the first moment no new session is opened (503
/// <c>server-shutting-down</c>) and no agent is accepted; open sessions run on until they end or
/// <see cref="PortholeServerOptions.ShutdownDrainTimeout"/> passes; the rest are closed with "server shutting down";
/// then every agent's control channel is closed with the same reason (agents reconnect with backoff) and only then
/// does Kestrel stop. Runs in <see cref="StoppingAsync"/>, which the host calls before it stops the web server.
/// Web sessions count as open while a request runs through them (an upload, an event stream); their idle pooled
/// connections do not hold the server up, and every web session is ended at the end of the drain.
/// </summary>
public sealed partial class ShutdownDrain(
    ISessionBroker broker, WebSessionRegistry webSessions, IDevicePresence presence, IOptions<PortholeServerOptions> options, TimeProvider time, ILogger<ShutdownDrain> logger)
    : IHostedLifecycleService
{
    /// <summary>The reason remaining sessions and agents are given.</summary>
    public const string Reason = "server shutting down";

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    private volatile bool _draining;

    /// <summary>True from the moment the server was asked to stop.</summary>
    public bool Draining => _draining;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        var deadline = options.Value.ShutdownDrainTimeout;
        var open = OpenCount();
        DrainStarted(logger, open, deadline.TotalSeconds);
        var drained = open == 0 || await WaitForNoSessionsAsync(deadline, cancellationToken);
        foreach (var web in webSessions.Active)
        {
            await webSessions.EndAsync(web, Reason);
        }

        if (!drained)
        {
            var remaining = broker.Active.ToList();
            DrainExpired(logger, remaining.Count);
            foreach (var session in remaining)
            {
                // A joined session closes both legs with the reason; one still waiting for its client just goes.
                if (session.Lifetime?.End(Reason) != true)
                {
                    broker.Remove(session);
                }
            }

            // The relays close both legs with a bounded handshake; give them that long.
            await WaitForNoSessionsAsync(Tunnel.Relay.WebSocketClosing.Timeout, cancellationToken);
        }

        foreach (var channel in presence.Channels)
        {
            channel.Close(Reason);
        }
    }

    private async Task<bool> WaitForNoSessionsAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        var start = time.GetTimestamp();
        while (OpenCount() > 0)
        {
            if (time.GetElapsedTime(start) >= limit || cancellationToken.IsCancellationRequested)
            {
                return false;
            }

            await Task.Delay(Poll, time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        return true;
    }

    /// <summary>Tunnel sessions, and web sessions with a request running (their pooled connections are not counted).</summary>
    private int OpenCount() =>
        broker.Active.Count(s => s.Target.WebSessionId is null) + webSessions.Active.Count(w => w.RequestsRunning > 0);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Shutting down: no new sessions; waiting up to {Seconds} s for {Count} open sessions")]
    private static partial void DrainStarted(ILogger logger, int count, double seconds);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Shutdown drain deadline passed: closing {Count} sessions (\"server shutting down\")")]
    private static partial void DrainExpired(ILogger logger, int count);
}
