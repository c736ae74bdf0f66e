using System.Net.Sockets;

namespace Porthole.Tunnel.Tests.Support;

/// <summary>
/// Wraps a connection so a test can make its writes fail (as after a TCP reset) while a pending read has not
/// noticed yet: a deterministic stand-in for the race between a failing send and a failing receive.
/// </summary>
internal sealed class BreakableStream(Stream inner) : Stream
{
    private volatile bool _writesBroken;

    public void BreakWrites() => _writesBroken = true;

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count)
    {
        ThrowIfBroken();
        inner.Write(buffer, offset, count);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfBroken();
        return inner.WriteAsync(buffer, cancellationToken);
    }

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

    private void ThrowIfBroken()
    {
        if (_writesBroken)
        {
            throw new IOException("Connection reset by peer", new SocketException((int)SocketError.ConnectionReset));
        }
    }
}
