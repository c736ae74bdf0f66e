using Porthole.Tunnel.Transport;

namespace Porthole.Tunnel.Tests.Streams;

/// <summary>
/// Wraps the server's end of a connection and tells a test when its reader, having taken a given number of bytes,
/// asks for more: a relay reading the connection on its pipes has then finished its pass over those bytes.
/// </summary>
internal sealed class ReadWatchStream(Stream inner) : LayeredStream(inner)
{
    private readonly Lock _gate = new();
    private readonly List<(long Bytes, TaskCompletionSource Done)> _watches = [];
    private long _read;

    /// <summary>Completes when a read begins after at least <paramref name="bytes"/> have been read; call it before sending them.</summary>
    public Task AskedForMoreAfterAsync(long bytes)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _watches.Add((bytes, done));
        }

        return done.Task;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            foreach (var watch in _watches.Where(w => _read >= w.Bytes).ToList())
            {
                watch.Done.TrySetResult();
                _watches.Remove(watch);
            }
        }

        var count = await Inner.ReadAsync(buffer, cancellationToken);
        lock (_gate)
        {
            _read += count;
        }

        return count;
    }
}
