using System.Buffers;
using System.Net.Security;
using System.Security.Authentication;

namespace Porthole.Server.Transport;

/// <summary>
/// How a <see cref="PortholeConnection"/>'s bytes come in and go out: plain on the socket
/// (<see cref="PlainConnectionIo"/>), through <see cref="SslStream"/> (<see cref="SslStreamConnectionIo"/>), or through
/// OpenSSL on the socket (<see cref="Tls.OpenSslSession"/>). The connection's receive loop, hot path and sender are
/// the same for all three.
/// </summary>
internal abstract class ConnectionIo : IAsyncDisposable
{
    /// <summary>The connection carries a relay from now on: a wait on the reactor is woken on the reactor thread itself.</summary>
    public abstract void UseHotPath();

    /// <summary>Waits, holding no buffer, until input (or its end) is there.</summary>
    public abstract ValueTask WaitForInputAsync();

    /// <summary>Reads at least one byte, waiting on the reactor; 0 at the end of the stream.</summary>
    public abstract ValueTask<int> ReadAsync(Memory<byte> destination);

    /// <summary>Reads at least one byte on this thread, waiting in <c>poll</c>; 0 at the end of the stream.</summary>
    public abstract int Read(Span<byte> destination);

    /// <summary>Waits up to <paramref name="milliseconds"/> for input on this thread; true when some is there (or the socket ended).</summary>
    public abstract bool WaitForInput(int milliseconds);

    /// <summary>Sends one flush's bytes from the writer's thread; completes once the socket has taken them all.</summary>
    public abstract ValueTask SendAsync(ReadOnlySequence<byte> buffer);

    /// <summary>Tells the peer that nothing more comes (TLS close_notify); the socket's FIN follows.</summary>
    public virtual ValueTask ShutdownAsync() => ValueTask.CompletedTask;

    /// <summary>Stops every use of the descriptor, before it is closed (no call may reach a number reused by another socket).</summary>
    public abstract void Detach();

    public abstract ValueTask DisposeAsync();
}

/// <summary>What a TLS connection's features report (Kestrel's <c>ITlsHandshakeFeature</c> and its kin).</summary>
internal interface ITlsDetails
{
    SslProtocols Protocol { get; }

    TlsCipherSuite? NegotiatedCipherSuite { get; }

    string HostName { get; }

    ReadOnlyMemory<byte> ApplicationProtocol { get; }

    /// <summary>The <see cref="System.Net.Security.SslStream"/> doing TLS, where one does.</summary>
    SslStream? SslStream { get; }
}

/// <summary>A plain connection (TLS terminated in front): reads go straight into the pipe's block, blocks are sent as they are.</summary>
internal sealed class PlainConnectionIo(RawSocketStream raw) : ConnectionIo
{
    public override void UseHotPath() => raw.WakeInline = true;

    public override async ValueTask WaitForInputAsync() => await raw.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);

    public override ValueTask<int> ReadAsync(Memory<byte> destination) => raw.ReadAsync(destination);

    public override int Read(Span<byte> destination) => raw.Read(destination);

    public override bool WaitForInput(int milliseconds) => raw.WaitForInput(milliseconds);

    public override ValueTask SendAsync(ReadOnlySequence<byte> buffer)
    {
        // Blocks are large; a flush has one or two.
        foreach (var segment in buffer)
        {
            raw.Write(segment.Span);
        }

        return raw.WhenSentAsync();
    }

    public override void Detach() => raw.Detach();

    public override ValueTask DisposeAsync()
    {
        raw.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>TLS by <see cref="System.Net.Security.SslStream"/> over <see cref="RawSocketStream"/>'s read-ahead and send batches.</summary>
internal sealed class SslStreamConnectionIo(RawSocketStream raw, SslStream tls) : ConnectionIo, ITlsDetails
{
    public override void UseHotPath() => raw.WakeInline = true;

    public SslProtocols Protocol => tls.SslProtocol;

    public TlsCipherSuite? NegotiatedCipherSuite => tls.NegotiatedCipherSuite;

    public string HostName => tls.TargetHostName;

    public ReadOnlyMemory<byte> ApplicationProtocol => tls.NegotiatedApplicationProtocol.Protocol;

    public SslStream SslStream => tls;

    // SslStream forwards a zero-byte read as one: the wait holds no buffer.
    public override async ValueTask WaitForInputAsync() => await tls.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);

    public override ValueTask<int> ReadAsync(Memory<byte> destination) => tls.ReadAsync(destination);

    public override int Read(Span<byte> destination) => tls.Read(destination);

    public override bool WaitForInput(int milliseconds) => raw.WaitForInput(milliseconds);

    // Encrypted here; the records of one flush leave in one send.
    public override ValueTask SendAsync(ReadOnlySequence<byte> buffer) => raw.SendBatchAsync(buffer, static (span, stream) => stream.Write(span), tls);

    public override ValueTask ShutdownAsync() => new(tls.ShutdownAsync());

    public override void Detach() => raw.Detach();

    public override async ValueTask DisposeAsync()
    {
        await tls.DisposeAsync().ConfigureAwait(false);
        raw.Dispose();
    }
}
