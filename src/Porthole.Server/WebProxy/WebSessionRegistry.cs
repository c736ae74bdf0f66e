using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Porthole.Server.Audit;
using Porthole.Server.Hosting;

namespace Porthole.Server.WebProxy;

/// <summary>
/// The web sessions of this server node, in memory like the session broker. Ending one closes its tunnel
/// connections and writes its <c>session.close</c> audit line, once.
/// </summary>
public sealed class WebSessionRegistry(IServiceScopeFactory scopes, TimeProvider time, IOptions<PortholeServerOptions> options, ILogger<WebSessionRegistry> logger)
{
    private readonly ConcurrentDictionary<string, WebSession> _sessions = new(StringComparer.Ordinal);

    public IReadOnlyCollection<WebSession> Active => [.. _sessions.Values];

    public void Add(WebSession session) => _sessions[session.Id] = session;

    /// <summary>The running session with this id; an expired one is ended on the way.</summary>
    public async Task<WebSession?> FindAsync(string id)
    {
        if (!_sessions.TryGetValue(id, out var session))
        {
            return null;
        }

        if (session.ExpiryReason(time.GetUtcNow(), options.Value.WebProxy) is { } reason)
        {
            await EndAsync(session, reason);
            return null;
        }

        return session;
    }

    /// <summary>Ends a session: no more requests, pooled connections closed, the close audited. Idempotent.</summary>
    public async Task EndAsync(WebSession session, string reason)
    {
        _sessions.TryRemove(new KeyValuePair<string, WebSession>(session.Id, session));
        if (!session.TryEnd(reason))
        {
            return;
        }

        session.Dispose();
        var info = session.Info;
        var duration = time.GetUtcNow() - session.CreatedAt;
        WebProxyLog.Ended(logger, session.Id, session.Requests, session.BytesIn, session.BytesOut, reason);
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<AuditLog>().WriteAsync(
            "user:" + info.Username, "session.close", $"device:{info.DeviceName}/{info.EndpointName}",
            detail: $"web session {session.Id}, web, {info.Protocol}: {session.Requests} requests, {session.BytesIn} bytes up, {session.BytesOut} bytes down, {duration.TotalSeconds:0.###} s, {reason}",
            clientAddress: info.ClientAddress);
    }

    /// <summary>Ends every session past its idle time or lifetime; the sweeper calls this periodically.</summary>
    public async Task EndExpiredAsync()
    {
        var now = time.GetUtcNow();
        foreach (var session in _sessions.Values)
        {
            if (session.ExpiryReason(now, options.Value.WebProxy) is { } reason)
            {
                await EndAsync(session, reason);
            }
        }
    }
}

/// <summary>Ends idle and over-age web sessions even when nobody asks for them any more.</summary>
public sealed class WebSessionSweeper(WebSessionRegistry registry, TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await registry.EndExpiredAsync();
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }
}
