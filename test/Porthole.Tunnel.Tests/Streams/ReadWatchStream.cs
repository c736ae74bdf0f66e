namespace Porthole.Tunnel.Tests.Streams;

/// <summary>
/// Wraps the server's end of a connection and tells a test when its reader, having taken a given number of bytes,
/// asks for more: a relay reading the connection on its pipes has then finished its pass over those bytes.
/// </summary>
internal sealed class ReadWatchStream(Stream inner) : Stream
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

        var count = await inner.ReadAsync(buffer, cancellationToken);
        lock (_gate)
        {
            _read += count;
        }

        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
