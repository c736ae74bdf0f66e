namespace Porthole.Tunnel.Tests.Streams;

/// <summary>
/// Wraps the server's end of a connection so a test can make its writes stall as a congested socket's do: half of a
/// write goes out, the rest waits until <see cref="Resume"/>. Cancelled meanwhile, the write throws with its first half
/// sent, as a socket send cancelled part-way does.
/// </summary>
internal sealed class StallingStream(Stream inner) : Stream
{
    private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _resumed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stalling;

    /// <summary>Completes when a write has stalled.</summary>
    public Task Stalled => _stalled.Task;

    /// <summary>From now on, writes stall halfway.</summary>
    public void Stall() => _stalling = true;

    /// <summary>Writes go on: a stalled one sends its second half.</summary>
    public void Resume()
    {
        _stalling = false;
        _resumed.TrySetResult();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!_stalling || buffer.Length < 2)
        {
            await inner.WriteAsync(buffer, cancellationToken);
            return;
        }

        var half = buffer.Length / 2;
        await inner.WriteAsync(buffer[..half], CancellationToken.None);
        _stalled.TrySetResult();
        await _resumed.Task.WaitAsync(cancellationToken);
        await inner.WriteAsync(buffer[half..], CancellationToken.None);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

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
