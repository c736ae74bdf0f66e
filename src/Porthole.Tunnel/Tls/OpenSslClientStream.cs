using System.Buffers;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using static Porthole.Tunnel.Tls.OpenSslCalls;

namespace Porthole.Tunnel.Tls;

/// <summary>
/// A client's TLS connection done by OpenSSL on the socket's descriptor, as a <see cref="Stream"/> for
/// <c>SocketsHttpHandler</c> (docs/design/tls-data-plane.md, "OpenSSL in the agent and the CLI"). Records go from the
/// kernel into OpenSSL's buffer (a socket BIO with read-ahead) and are decrypted straight into the caller's; a write is
/// encrypted whole into a batch (<see cref="RecordSinkBio"/>) that leaves in one send. Waits are .NET's zero-byte
/// receives, so they complete on the event thread where the process turned inline completions on. Every OpenSSL call
/// takes the stream's lock (a read and a write may run at once) and nothing waits while holding it.
/// </summary>
/// <remarks>
/// The handshake does not check the server's certificate: the caller does, with <see cref="PeerCertificates"/>, before
/// it sends anything (<see cref="Transport.ServerCertificateCheck"/>), and then calls <see cref="MarkTrusted"/> so that
/// the connection's sessions may be resumed.
/// </remarks>
public sealed class OpenSslClientStream : Stream, ITlsRecordSink
{
    // Read-ahead: eight full records, a relayed message, in one receive. Released while no records wait.
    private const int ReadBuffer = 128 * 1024;

    // A batch is sent once it holds this much, so one large write does not grow it without end.
    private const int BatchLimit = 256 * 1024;

    // SSL_set_ex_data slot 0 (OpenSSL's "app data"): this stream, for the new-session callback.
    private const int StreamSlot = 0;

    // ALPN in wire format: HTTP/1.1 only (the WebSocket upgrade needs it, and REST calls use it).
    private static ReadOnlySpan<byte> Http11Protocol => "\u0008http/1.1"u8;

    private readonly Socket _socket;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _sending = new(1, 1);
    private GCHandle _self;
    private nint _ssl;

    // Encrypted records waiting for the next send: rented when OpenSSL writes, returned once sent, so a resting
    // connection (an agent's control channel, a forwarded session at rest) holds none.
    private byte[] _batch = [];
    private int _batchLength;
    private int _disposed;
    private bool _trusted;
    private nint _heldSession;

    private unsafe OpenSslClientStream(Socket socket, OpenSslClientContext context, string host, int port)
    {
        _socket = socket;
        Context = context;
        SessionKey = host + ":" + port;
        ERR_clear_error();
        _ssl = context.NewSsl(SessionKey);
        try
        {
            OpenSslRecords.AttachToSocket(_ssl, (int)socket.Handle, this, out _self);
        }
        catch
        {
            Free();
            throw;
        }

        SSL_set_ex_data(_ssl, StreamSlot, GCHandle.ToIntPtr(_self));
        SSL_set_connect_state(_ssl);
        SSL_set_default_read_buffer_len(_ssl, ReadBuffer);

        // RFC 6066: SNI names a host, never an address, and without the trailing dot of an absolute name.
        var serverName = host.TrimEnd('.');
        if (Uri.CheckHostName(serverName) == UriHostNameType.Dns)
        {
            var name = Marshal.StringToCoTaskMemUTF8(serverName);
            try
            {
                if (SSL_ctrl(_ssl, CtrlSetTlsExtHostName, NameTypeHostName, name) != 1)
                {
                    var reason = TakeError("no reason given");
                    Free();
                    throw new IOException($"OpenSSL refused the server name '{serverName}': {reason}");
                }
            }
            finally
            {
                Marshal.FreeCoTaskMem(name);
            }
        }

        fixed (byte* protocols = Http11Protocol)
        {
            SSL_set_alpn_protos(_ssl, protocols, (uint)Http11Protocol.Length);
        }
    }

    internal OpenSslClientContext Context { get; }

    /// <summary>Host and port: the key of this connection's session in <see cref="Context"/>'s cache.</summary>
    internal string SessionKey { get; }

    /// <summary>The server's certificate first, then the chain it sent; empty if it sent none.</summary>
    public X509Certificate2Collection PeerCertificates { get; } = [];

    /// <summary>The negotiated protocol version, after the handshake.</summary>
    public SslProtocols Protocol { get; private set; }

    /// <summary>The negotiated cipher suite, after the handshake.</summary>
    public System.Net.Security.TlsCipherSuite? NegotiatedCipherSuite { get; private set; }

    /// <summary>Whether the handshake resumed a session of <see cref="Context"/>'s cache.</summary>
    public bool IsResumed { get; private set; }

    /// <summary>
    /// Does the TLS handshake with the server on <paramref name="socket"/> (connected; the stream owns it from here,
    /// and disposes it on failure too). The certificate is not checked: see <see cref="PeerCertificates"/>.
    /// </summary>
    /// <exception cref="AuthenticationException">The handshake failed; the message is OpenSSL's reason.</exception>
    public static async Task<OpenSslClientStream> ConnectAsync(Socket socket, OpenSslClientContext context, string host, int port, CancellationToken cancellationToken)
    {
        OpenSslClientStream? stream = null;
        try
        {
            // OpenSSL's socket BIO must never block: waits are the zero-byte receives below.
            socket.Blocking = false;
            stream = new OpenSslClientStream(socket, context, host, port);
            await stream.HandshakeAsync(cancellationToken).ConfigureAwait(false);
            return stream;
        }
        catch
        {
            if (stream is null)
            {
                socket.Dispose();
            }
            else
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>
    /// The caller has checked <see cref="PeerCertificates"/> and trusts them: this connection's sessions may be offered to
    /// the next connection from now on. Until then a session OpenSSL hands over is only held (a refused server's session
    /// must not replace a trusted one in the cache).
    /// </summary>
    public void MarkTrusted()
    {
        lock (_gate)
        {
            _trusted = true;
            if (_heldSession != 0)
            {
                var session = _heldSession;
                _heldSession = 0;
                if (!Context.Keep(SessionKey, session))
                {
                    SSL_SESSION_free(session);
                }
            }
        }
    }

    /// <summary>
    /// Called by OpenSSL (in one of our calls, under the lock) with a new session whose reference it gives us: to the
    /// cache once the server is trusted, held until then. False when the session was not taken (OpenSSL frees it).
    /// </summary>
    internal bool TakeSession(nint session)
    {
        if (_trusted)
        {
            return Context.Keep(SessionKey, session);
        }

        if (_heldSession != 0)
        {
            SSL_SESSION_free(_heldSession);
        }

        _heldSession = session;
        return true;
    }

    /// <summary>The stream an <c>SSL*</c> of <see cref="OpenSslClientStream"/> belongs to, for OpenSSL's callbacks.</summary>
    internal static OpenSslClientStream? FromSsl(nint ssl)
    {
        var self = SSL_get_ex_data(ssl, StreamSlot);
        return self == 0 ? null : GCHandle.FromIntPtr(self).Target as OpenSslClientStream;
    }

    private async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int error;
            lock (_gate)
            {
                ThrowIfFreed();
                ERR_clear_error();
                var result = SSL_do_handshake(_ssl);
                error = result == 1 ? ErrorNone : SSL_get_error(_ssl, result);
                if (error is ErrorSyscall or ErrorZeroReturn || (error == ErrorSsl && IsUnexpectedEof()))
                {
                    // The connection broke (reset, or ended mid-handshake): a network failure, as SslStream reports it,
                    // not a refusal of the server's certificate or of what it offered.
                    throw new IOException("TLS handshake failed: " + TakeError("the connection ended"));
                }

                if (error is not (ErrorNone or ErrorWantRead or ErrorWantWrite))
                {
                    throw new AuthenticationException("TLS handshake failed: " + TakeError($"error {error}"));
                }

                if (error == ErrorNone)
                {
                    ReadNegotiated();
                }
            }

            await SendBatchAsync(cancellationToken).ConfigureAwait(false);
            if (error == ErrorNone)
            {
                return;
            }

            await WaitReadableAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Under the lock, after the handshake.</summary>
    private unsafe void ReadNegotiated()
    {
        Protocol = OpenSslRecords.Protocol(_ssl);
        NegotiatedCipherSuite = OpenSslRecords.CipherSuite(_ssl);
        IsResumed = SSL_session_reused(_ssl) == 1;

        // On the client side the chain starts with the server's own certificate; on a resumed session it is the
        // session's, as received at its full handshake.
        var chain = SSL_get_peer_cert_chain(_ssl);
        var count = chain == 0 ? 0 : OPENSSL_sk_num(chain);
        for (var i = 0; i < count; i++)
        {
            var certificate = OPENSSL_sk_value(chain, i);
            var length = i2d_X509(certificate, null);
            if (length <= 0)
            {
                throw new AuthenticationException("TLS handshake failed: the server's certificate could not be read");
            }

            var der = new byte[length];
            fixed (byte* start = der)
            {
                var cursor = start;
                i2d_X509(certificate, &cursor);
            }

            try
            {
                PeerCertificates.Add(X509CertificateLoader.LoadCertificate(der));
            }
            catch (System.Security.Cryptography.CryptographicException ex)
            {
                throw new AuthenticationException("TLS handshake failed: the server's certificate could not be read", ex);
            }
        }
    }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>
    /// Decrypts what has arrived into <paramref name="buffer"/>, waiting for the socket only when nothing has. An empty
    /// <paramref name="buffer"/> waits until data is there and returns 0 without taking it, as <c>SslStream</c> does
    /// (the HTTP handler watches idle pooled connections that way).
    /// </summary>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var read = TryRead(buffer.Span);
            if (_batchLength > 0)
            {
                // Reading made OpenSSL answer the server (a TLS 1.3 key update): that answer goes out now.
                await SendPendingAsync(cancellationToken).ConfigureAwait(false);
            }

            if (read >= 0)
            {
                return read;
            }

            await WaitReadableAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Bytes decrypted into <paramref name="destination"/> (as many whole records as are there and fit), 0 at the end of
    /// the stream (or, for an empty destination, once data waits), −1 when OpenSSL must wait for the socket.
    /// </summary>
    private unsafe int TryRead(Span<byte> destination)
    {
        lock (_gate)
        {
            ThrowIfFreed();
            if (!destination.IsEmpty)
            {
                return OpenSslRecords.Read(_ssl, destination);
            }

            // Waiting for data without taking it: peek at one byte.
            byte peek;
            nuint read;
            ERR_clear_error();
            var result = SSL_peek_ex(_ssl, &peek, 1, &read);
            var error = result == 1 ? ErrorNone : SSL_get_error(_ssl, result);
            return error switch
            {
                ErrorNone or ErrorZeroReturn => 0,
                ErrorWantRead or ErrorWantWrite => -1,
                _ => throw new IOException("TLS read failed: " + TakeError(error == ErrorSyscall ? "the connection was reset" : $"error {error}")),
            };
        }
    }

    /// <summary>Encrypts <paramref name="buffer"/> and sends it: one send per write (per 256 KiB of a larger one).</summary>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ReserveBatch(Math.Min(buffer.Length, BatchLimit));
            for (var offset = 0; offset < buffer.Length;)
            {
                offset += Encrypt(buffer.Span[offset..]);
                if (_batchLength >= BatchLimit)
                {
                    await SendBatchAsync(cancellationToken).ConfigureAwait(false);
                    ReserveBatch(Math.Min(buffer.Length - offset, BatchLimit));
                }
            }

            await SendBatchAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>Encrypts at most one record from <paramref name="source"/> into the batch; bytes taken.</summary>
    private int Encrypt(ReadOnlySpan<byte> source)
    {
        lock (_gate)
        {
            ThrowIfFreed();
            return OpenSslRecords.Write(_ssl, source);
        }
    }

    /// <summary>Called by OpenSSL (under the lock, in one of our calls): keeps encrypted records for the next send.</summary>
    void ITlsRecordSink.Write(ReadOnlySpan<byte> records)
    {
        if (_batch.Length - _batchLength < records.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_batchLength + records.Length, Math.Max(2 * _batch.Length, 32 * 1024)));
            _batch.AsSpan(0, _batchLength).CopyTo(larger);
            ReturnBatch(_batch);
            _batch = larger;
        }

        records.CopyTo(_batch.AsSpan(_batchLength));
        _batchLength += records.Length;
    }

    /// <summary>
    /// Rents a batch large enough for <paramref name="plaintext"/> bytes as records, before encrypting them: growing it
    /// record by record would copy a relayed message several times over.
    /// </summary>
    private void ReserveBatch(int plaintext)
    {
        // A TLS 1.3 AES-GCM record adds 22 bytes (header, content type, tag); 64 leaves room for any suite.
        var needed = plaintext + (plaintext / OpenSslRecords.RecordSize + 1) * 64;
        lock (_gate)
        {
            if (_batch.Length - _batchLength < needed)
            {
                var larger = ArrayPool<byte>.Shared.Rent(_batchLength + needed);
                _batch.AsSpan(0, _batchLength).CopyTo(larger);
                ReturnBatch(_batch);
                _batch = larger;
            }
        }
    }

    private static void ReturnBatch(byte[] batch)
    {
        if (batch.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(batch);
        }
    }

    /// <summary>Sends what a read made OpenSSL write, unless a write is sending already (it takes it along).</summary>
    private async ValueTask SendPendingAsync(CancellationToken cancellationToken)
    {
        if (!_sending.Wait(0))
        {
            return;
        }

        try
        {
            await SendBatchAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>
    /// Sends the batch. The caller holds <see cref="_sending"/> (or is the handshake, which runs alone), so sends never
    /// overlap; the batch is taken under the lock, because a read may make OpenSSL write (a key update) while this send
    /// runs: that starts a new batch and goes with the next send.
    /// </summary>
    private async ValueTask SendBatchAsync(CancellationToken cancellationToken)
    {
        byte[] batch;
        int length;
        lock (_gate)
        {
            (batch, length) = (_batch, _batchLength);
            (_batch, _batchLength) = ([], 0);
        }

        try
        {
            for (var sent = 0; sent < length;)
            {
                sent += await _socket.SendAsync(batch.AsMemory(sent, length - sent), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (SocketException ex)
        {
            throw new IOException("TLS send failed: " + ex.Message, ex);
        }
        finally
        {
            ReturnBatch(batch);
        }
    }

    private async ValueTask WaitReadableAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            throw new IOException("TLS read failed: " + ex.Message, ex);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // The handler and the WebSocket only read and write asynchronously; these are for completeness.
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>
    /// Sends close_notify if no write is under way (the server's answer is not waited for), closes the socket and frees
    /// the session.
    /// </summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            var closeNotify = _sending.Wait(0);
            if (closeNotify)
            {
                SendCloseNotify();
            }

            // The session goes before the socket: once the descriptor is closed its number can be another connection's,
            // and a reader must find the session freed rather than read that connection's bytes.
            Free();
            _socket.Dispose();
            if (closeNotify)
            {
                // A write waiting for its turn now finds the session gone.
                _sending.Release();
            }
        }

        base.Dispose(disposing);
    }

    private void SendCloseNotify()
    {
        lock (_gate)
        {
            if (_ssl == 0)
            {
                return;
            }

            ERR_clear_error();
            SSL_shutdown(_ssl);
            ERR_clear_error();
            try
            {
                // Non-blocking: what the socket cannot take now is dropped; the FIN follows anyway.
                _socket.Send(_batch.AsSpan(0, _batchLength), SocketFlags.None, out _);
            }
            catch (ObjectDisposedException)
            {
            }

            ReturnBatch(_batch);
            (_batch, _batchLength) = ([], 0);
        }
    }

    private void Free()
    {
        lock (_gate)
        {
            if (_ssl != 0)
            {
                SSL_set_ex_data(_ssl, StreamSlot, 0);
                SSL_free(_ssl);
                _ssl = 0;
            }

            if (_self.IsAllocated)
            {
                _self.Free();
            }

            if (_heldSession != 0)
            {
                SSL_SESSION_free(_heldSession);
                _heldSession = 0;
            }
        }
    }

    private void ThrowIfFreed()
    {
        if (_ssl == 0)
        {
            throw new ObjectDisposedException(nameof(OpenSslClientStream), "the connection is closed");
        }
    }
}
