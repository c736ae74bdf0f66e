using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Porthole.Server.Transport;

/// <summary>
/// One accepted connection of <see cref="PortholeTransportFactory"/>, handed to Kestrel already decrypted: the
/// transport does TLS itself (OpenSSL on the socket, or an <see cref="SslStream"/> over <see cref="RawSocketStream"/>;
/// <see cref="ConnectionIo"/>) and tells Kestrel about it through the same features Kestrel's own HTTPS layer sets,
/// so HTTP/1.1 or HTTP/2, the scheme and the TLS checks work as before. Kestrel reads and writes the connection's pipes; the transport fills and drains them.
/// Once a request turns the connection into a relayed leg (<see cref="IHotPathFeature"/>), its input is read on a
/// <see cref="HotThreads"/> thread while data flows, and the relay runs inline on that thread, as does the encryption
/// of whatever the relay writes to another such connection.
/// </summary>
internal sealed class PortholeConnection : ConnectionContext,
    IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature, IConnectionLifetimeFeature,
    IConnectionEndPointFeature, IMemoryPoolFeature, IConnectionSocketFeature, IHotPathFeature,
    ITlsConnectionFeature, ITlsHandshakeFeature, ITlsApplicationProtocolFeature, ISslStreamFeature
{
    // One TLS record's plaintext at least, so a read never has to split one.
    private const int MinimumRead = 16 * 1024 + 256;

    private static long _lastId;

    private readonly Socket _socket;
    private readonly Reactor.Registration _readiness;
    private readonly RawSocketStream _raw;
    private readonly TransportShared _shared;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly SwitchableScheduler _relayScheduler = new();
    private readonly CancellationTokenSource _closed = new();
    private readonly Func<HotOutcome> _runHot;
    private ConnectionIo _io;
    private ITlsDetails? _tls;
    private Task _receiving = Task.CompletedTask;
    private Task _sending = Task.CompletedTask;
    private volatile bool _hot;
    private int _aborted;
    private int _disposed;

    public PortholeConnection(Socket socket, TransportShared shared)
    {
        _socket = socket;
        _shared = shared;
        _readiness = shared.Reactor.Register((int)socket.Handle);
        _raw = new RawSocketStream((int)socket.Handle, _readiness) { ReadsDirect = true };
        _io = new PlainConnectionIo(_raw);
        ConnectionId = "P" + Interlocked.Increment(ref _lastId).ToString("X", System.Globalization.CultureInfo.InvariantCulture);
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;

        // The relay reads the input inline on the thread that filled it (a hot thread), once switched on; until then, as
        // everywhere in Kestrel, on the pool. Whoever writes the output encrypts and sends it on its own thread.
        _input = new Pipe(new PipeOptions(shared.MemoryPool, readerScheduler: _relayScheduler, writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024, minimumSegmentSize: shared.BlockSize, useSynchronizationContext: false));
        _output = new Pipe(new PipeOptions(shared.MemoryPool, readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024, minimumSegmentSize: shared.BlockSize, useSynchronizationContext: false));
        Transport = new DuplexPipe(_input.Reader, _output.Writer);
        _runHot = RunHot;

        Features.Set<IConnectionIdFeature>(this);
        Features.Set<IConnectionTransportFeature>(this);
        Features.Set<IConnectionItemsFeature>(this);
        Features.Set<IConnectionLifetimeFeature>(this);
        Features.Set<IConnectionEndPointFeature>(this);
        Features.Set<IMemoryPoolFeature>(this);
        Features.Set<IConnectionSocketFeature>(this);
        Features.Set<IHotPathFeature>(this);
    }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed { get; set; }

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    public MemoryPool<byte> MemoryPool => _shared.MemoryPool;

    public Socket Socket => _socket;

    /// <summary>
    /// Completes the TLS handshake (when the endpoint has TLS) and starts moving bytes; false when the handshake failed
    /// or timed out, in which case the connection is closed.
    /// </summary>
    public async Task<bool> StartAsync(ConnectionTls? tls, TimeSpan handshakeTimeout)
    {
        ConnectionClosed = _closed.Token;
        if (tls is not null)
        {
            try
            {
                using var timeout = new CancellationTokenSource(handshakeTimeout);
                _io = await HandshakeAsync(tls, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or AuthenticationException or OperationCanceledException or SocketException or ObjectDisposedException)
            {
                CloseSocket();
                return false;
            }

            _tls = (ITlsDetails)_io;
            Features.Set<ITlsConnectionFeature>(this);
            Features.Set<ITlsHandshakeFeature>(this);
            Features.Set<ITlsApplicationProtocolFeature>(this);
            if (_tls.SslStream is not null)
            {
                Features.Set<ISslStreamFeature>(this);
            }
        }

        _receiving = ReceiveAsync();
        _sending = SendAsync();
        return true;
    }

    /// <summary>The server's side of the handshake, by OpenSSL on the socket or by an <see cref="SslStream"/>.</summary>
    private async Task<ConnectionIo> HandshakeAsync(ConnectionTls tls, CancellationToken cancellationToken)
    {
        if (tls.OpenSsl is { } context)
        {
            // OpenSSL reads and writes the descriptor itself, and must not block in it.
            _socket.Blocking = false;
            var session = new Tls.OpenSslSession(context, (int)_socket.Handle, _readiness, _raw);
            try
            {
                await session.HandshakeAsync(cancellationToken).ConfigureAwait(false);
                return session;
            }
            catch
            {
                await session.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        _raw.ReadsDirect = false;
        var stream = new SslStream(_raw, leaveInnerStreamOpen: true);
        try
        {
            await stream.AuthenticateAsServerAsync(tls.SslStreamOptions, cancellationToken).ConfigureAwait(false);
            return new SslStreamConnectionIo(_raw, stream);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Switches the connection to the hot path: from its next input on, see the type.</summary>
    public void UseHotPath()
    {
        _relayScheduler.RunInline = true;
        _io.UseHotPath();
        _hot = true;
    }

    private async Task ReceiveAsync()
    {
        var writer = _input.Writer;
        Exception? error = null;
        try
        {
            while (true)
            {
                // At rest: wait on the reactor holding no buffer.
                await _io.WaitForInputAsync().ConfigureAwait(false);

                HotOutcome outcome;
                if (_hot && _shared.HotThreads.TryRun(_runHot, out var running))
                {
                    outcome = await running.ConfigureAwait(false);
                }
                else
                {
                    outcome = await ReceiveOnceAsync(writer).ConfigureAwait(false);
                }

                if (outcome.Pending is { } pending)
                {
                    outcome = HotOutcome.After(await pending.ConfigureAwait(false));
                }

                if (outcome.Error is { } failure)
                {
                    error = failure;
                    break;
                }

                if (outcome.IsFinished)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or AuthenticationException)
        {
            error = ex;
        }

        // The end of input (or its failure) is the connection's end for Kestrel, as with its own transport.
        await writer.CompleteAsync(error is null || Volatile.Read(ref _aborted) == 1 ? null : new ConnectionResetException(error.Message, error)).ConfigureAwait(false);
    }

    /// <summary>One read and hand-over on the pool, for a connection not on the hot path (or when no hot thread is free).</summary>
    private async ValueTask<HotOutcome> ReceiveOnceAsync(PipeWriter writer)
    {
        var memory = writer.GetMemory(MinimumRead);
        var read = await _io.ReadAsync(memory).ConfigureAwait(false);
        if (read == 0)
        {
            return HotOutcome.Finished;
        }

        writer.Advance(read);
        var flush = writer.FlushAsync();
        return flush.IsCompleted
            ? HotOutcome.After(flush.Result)
            : new HotOutcome(flush.AsTask());
    }

    /// <summary>The hot path: read, decrypt and hand over synchronously while input keeps coming.</summary>
    private HotOutcome RunHot()
    {
        var writer = _input.Writer;
        try
        {
            while (true)
            {
                var memory = writer.GetMemory(MinimumRead);
                var read = _io.Read(memory.Span);
                if (read == 0)
                {
                    return HotOutcome.Finished;
                }

                writer.Advance(read);

                // The relay runs inside this flush (the input's reader is inline on the hot path). When the relay is
                // behind, wait here a while: it catches up on the pool, and leaving the thread would cost a hop back.
                var flush = writer.FlushAsync();
                if (!flush.IsCompleted)
                {
                    var pending = flush.AsTask();
                    if (!pending.Wait(HotThreads.QuietMilliseconds))
                    {
                        return new HotOutcome(pending);
                    }

                    flush = new ValueTask<FlushResult>(pending);
                }

                if (HotOutcome.After(flush.Result).IsFinished)
                {
                    return HotOutcome.Finished;
                }

                // A full read may have left decrypted records behind in the TLS layer: read again at once.
                if (read < memory.Length && !_io.WaitForInput(HotThreads.QuietMilliseconds))
                {
                    return HotOutcome.Idle;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or AuthenticationException or InvalidOperationException)
        {
            return new HotOutcome(ex);
        }
    }

    private async Task SendAsync()
    {
        var reader = _output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    var sent = _io.SendAsync(buffer);
                    if (!sent.IsCompletedSuccessfully)
                    {
                        await sent.ConfigureAwait(false);
                    }
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }

            // Kestrel is done writing: say so to the peer (close_notify, then FIN), as its own transport would.
            if (Volatile.Read(ref _aborted) == 0)
            {
                await _io.ShutdownAsync().ConfigureAwait(false);
            }

            if (Volatile.Read(ref _aborted) == 0)
            {
                _socket.Shutdown(SocketShutdown.Send);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // The peer has gone; the receive side ends the connection.
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        if (Interlocked.Exchange(ref _aborted, 1) == 1)
        {
            return;
        }

        // Shutting the socket down wakes a hot thread in poll and a receive waiting on the event loop.
        ShutdownSocket();
        _output.Reader.CancelPendingRead();
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        // Kestrel is done with the connection, but has not always completed its end of the output (it does not after a
        // timeout's 408 or when it drops an idle keep-alive connection; its own transport completes both ends here, as
        // this one does): what it wrote still goes out, then close_notify and FIN. Then the receive loop ends.
        await _output.Writer.CompleteAsync().ConfigureAwait(false);
        await Task.WhenAny(_sending, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        Interlocked.Exchange(ref _aborted, 1);
        ShutdownSocket();
        await _receiving.ConfigureAwait(false);
        await _input.Reader.CompleteAsync().ConfigureAwait(false);
        await _io.DisposeAsync().ConfigureAwait(false);
        CloseSocket();
        ThreadPool.UnsafeQueueUserWorkItem(static closed => closed.Cancel(), _closed, preferLocal: false);
    }

    private void ShutdownSocket()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
    }

    private void CloseSocket()
    {
        ShutdownSocket();

        // Before the descriptor can be reused: no reactor event and no send may name it after this.
        _readiness.Dispose();
        _io.Detach();
        _socket.Dispose();
    }

    // TLS features, as Kestrel's HTTPS layer sets them.
    public X509Certificate2? ClientCertificate { get; set; }

    public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult<X509Certificate2?>(null);

    public SslProtocols Protocol => _tls!.Protocol;

    public TlsCipherSuite? NegotiatedCipherSuite => _tls!.NegotiatedCipherSuite;

    public string HostName => _tls!.HostName;

#pragma warning disable SYSLIB0058 // The obsolete members are part of the interface Kestrel's features implement.
    public CipherAlgorithmType CipherAlgorithm => _tls!.SslStream?.CipherAlgorithm ?? Tls.LegacyCipherDetails.Cipher(NegotiatedCipherSuite);

    public int CipherStrength => _tls!.SslStream?.CipherStrength ?? Tls.LegacyCipherDetails.CipherStrength(NegotiatedCipherSuite);

    public HashAlgorithmType HashAlgorithm => _tls!.SslStream?.HashAlgorithm ?? Tls.LegacyCipherDetails.Hash(NegotiatedCipherSuite);

    public int HashStrength => _tls!.SslStream?.HashStrength ?? 0;

    public ExchangeAlgorithmType KeyExchangeAlgorithm => _tls!.SslStream?.KeyExchangeAlgorithm ?? ExchangeAlgorithmType.None;

    public int KeyExchangeStrength => _tls!.SslStream?.KeyExchangeStrength ?? 0;
#pragma warning restore SYSLIB0058

    public ReadOnlyMemory<byte> ApplicationProtocol => _tls!.ApplicationProtocol;

    public SslStream SslStream => _tls!.SslStream!;

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    /// <summary>Runs the input's reader on the pool until the connection is on the hot path, then inline.</summary>
    private sealed class SwitchableScheduler : PipeScheduler
    {
        public volatile bool RunInline;

        public override void Schedule(Action<object?> action, object? state)
        {
            if (RunInline)
            {
                action(state);
            }
            else
            {
                System.Threading.ThreadPool.UnsafeQueueUserWorkItem(action, state, preferLocal: false);
            }
        }
    }
}
