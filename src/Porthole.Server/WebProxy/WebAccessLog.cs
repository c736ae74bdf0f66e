using System.Threading.Channels;
using Porthole.Server.Data;

namespace Porthole.Server.WebProxy;

/// <summary>
/// The per-session request log of the web proxy. Requests hand their record to a bounded queue and go on; a
/// background writer stores records in batches, so a busy page never waits on the database.
/// </summary>
public sealed class WebAccessLog
{
    private const int Capacity = 10_000;
    private const int MaxPathLength = 1024;
    private readonly Channel<WebRequestRecord> _queue = Channel.CreateBounded<WebRequestRecord>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private long _dropped;

    public ChannelReader<WebRequestRecord> Reader => _queue.Reader;

    /// <summary>Records dropped because the writer fell more than <see cref="Capacity"/> records behind.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Queues one request's record; <paramref name="path"/> is the path only (query strings can carry secrets).</summary>
    public void Record(string sessionId, DateTimeOffset at, string method, string path, int status, long bytesIn, long bytesOut, TimeSpan duration)
    {
        var record = new WebRequestRecord
        {
            SessionId = sessionId,
            At = at,
            Method = method,
            Path = path.Length > MaxPathLength ? path[..MaxPathLength] : path,
            Status = status,
            BytesIn = bytesIn,
            BytesOut = bytesOut,
            DurationMs = (int)Math.Min(int.MaxValue, duration.TotalMilliseconds),
        };
        if (!_queue.Writer.TryWrite(record))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    public void Complete() => _queue.Writer.TryComplete();
}

/// <summary>Stores queued request records in batches; drains the queue on shutdown.</summary>
public sealed class WebAccessLogWriter(WebAccessLog log, IServiceScopeFactory scopes, ILogger<WebAccessLogWriter> logger) : BackgroundService
{
    private const int BatchSize = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<WebRequestRecord>(BatchSize);
        var reader = log.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                await DrainAsync(reader, batch);
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down: store what is already queued.
            await DrainAsync(reader, batch);
        }
    }

    private async Task DrainAsync(ChannelReader<WebRequestRecord> reader, List<WebRequestRecord> batch)
    {
        while (true)
        {
            batch.Clear();
            while (batch.Count < BatchSize && reader.TryRead(out var record))
            {
                batch.Add(record);
            }

            if (batch.Count == 0)
            {
                return;
            }

            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<PortholeDbContext>();
                db.WebRequests.AddRange(batch);
                await db.SaveChangesAsync(CancellationToken.None);
            }
            catch (Exception ex) when (ex is Microsoft.EntityFrameworkCore.DbUpdateException or InvalidOperationException or IOException)
            {
                WebProxyLog.AccessLogWriteFailed(logger, batch.Count, ex);
            }
        }
    }
}
