using System.Buffers;
using System.Net.Security;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using Porthole.Tunnel.Tls;
using static Porthole.Tunnel.Tls.OpenSslCalls;

namespace Porthole.Server.Transport.Tls;

/// <summary>
/// One TLS connection done by OpenSSL on the socket's descriptor: records go from the kernel into OpenSSL's buffer
/// (a socket BIO with read-ahead) and are decrypted into the caller's, with no memory BIO and no copy of ours in
/// between; records it encrypts go into the <see cref="RawSocketStream"/>'s send batch (<see cref="Tunnel.Tls.RecordSinkBio"/>), so
/// a flush leaves in one send and a full socket queues rather than fails (docs/design/tls-data-plane.md, "OpenSSL on
/// the socket"). The socket is non-blocking: waits happen outside OpenSSL, in <c>poll</c> on a hot thread or on the
/// reactor, and never while holding the session's lock, which every OpenSSL call takes (an <c>SSL*</c> must not be used
/// by two threads at once, and a reader and a relaying writer may both want it).
/// </summary>
internal sealed class OpenSslSession : ConnectionIo, ITlsDetails
{
    // A hot connection's read-ahead: eight full records, a relayed message, in one receive.
    private const int HotReadBuffer = 128 * 1024;

    private readonly int _fd;
    private readonly Reactor.Registration _readiness;
    private readonly RawSocketStream _raw;
    private readonly Lock _gate = new();
    private GCHandle _sendTarget;
    private nint _ssl;

    public OpenSslSession(OpenSslServerContext context, int fd, Reactor.Registration readiness, RawSocketStream raw)
    {
        (_fd, _readiness, _raw) = (fd, readiness, raw);
        ERR_clear_error();
        _ssl = SSL_new(context.Handle);
        try
        {
            OpenSslRecords.AttachToSocket(_ssl, fd, raw, out _sendTarget);
        }
        catch
        {
            Free();
            throw;
        }

        SSL_set_accept_state(_ssl);
    }

    /// <summary>
    /// The connection carries a relay: wake-ups run on the reactor thread, and reads take up to 128 KiB of records in
    /// one receive. Elsewhere (the API, agents' control connections) OpenSSL's buffer of one record is enough; it exists
    /// only while records wait (released when empty), but a large one for every connection left the heap fragmented:
    /// 13 KiB more per idle agent in the bench (ab/56).
    /// </summary>
    public override void UseHotPath()
    {
        _raw.WakeInline = true;
        lock (_gate)
        {
            if (_ssl != 0)
            {
                SSL_set_default_read_buffer_len(_ssl, HotReadBuffer);
            }
        }
    }

    public SslProtocols Protocol { get; private set; }

    public TlsCipherSuite? NegotiatedCipherSuite { get; private set; }

    public string HostName { get; private set; } = "";

    public ReadOnlyMemory<byte> ApplicationProtocol { get; private set; }

    public SslStream? SslStream => null;

    /// <summary>Completes the server's side of the handshake, waiting on the reactor for the client.</summary>
    /// <exception cref="AuthenticationException">The handshake failed; the message is OpenSSL's reason.</exception>
    public async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int error;
            lock (_gate)
            {
                ThrowIfFreed();
                ERR_clear_error();
                var result = SSL_do_handshake(_ssl);
                if (result == 1)
                {
                    ReadNegotiated();
                    return;
                }

                error = SSL_get_error(_ssl, result);
                if (error is not (ErrorWantRead or ErrorWantWrite))
                {
                    throw new AuthenticationException("TLS handshake failed: " + TakeError(error == ErrorSyscall ? "the connection ended" : $"error {error}"));
                }
            }

            var ready = error == ErrorWantRead ? _readiness.WhenReadable(inline: false) : _readiness.WhenWritable();
            await ready.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Under the lock, after the handshake: what <see cref="ITlsDetails"/> reports.</summary>
    private unsafe void ReadNegotiated()
    {
        Protocol = OpenSslRecords.Protocol(_ssl);
        NegotiatedCipherSuite = OpenSslRecords.CipherSuite(_ssl);
        HostName = Marshal.PtrToStringUTF8(SSL_get_servername(_ssl, NameTypeHostName)) ?? "";

        byte* protocol;
        uint length;
        SSL_get0_alpn_selected(_ssl, &protocol, &length);
        ApplicationProtocol = length == 0 ? default : new ReadOnlySpan<byte>(protocol, (int)length).ToArray();
    }

    public override async ValueTask WaitForInputAsync()
    {
        if (!HasPending() && !SocketCalls.WaitReadable(_fd, 0))
        {
            await _readiness.WhenReadable(_raw.WakeInline).ConfigureAwait(false);
        }
    }

    public override bool WaitForInput(int milliseconds) => HasPending() || SocketCalls.WaitReadable(_fd, milliseconds);

    public override async ValueTask<int> ReadAsync(Memory<byte> destination)
    {
        while (true)
        {
            var read = TryRead(destination.Span);
            if (read >= 0)
            {
                return read;
            }

            await _readiness.WhenReadable(_raw.WakeInline).ConfigureAwait(false);
        }
    }

    public override int Read(Span<byte> destination)
    {
        while (true)
        {
            var read = TryRead(destination);
            if (read >= 0)
            {
                return read;
            }

            SocketCalls.WaitReadable(_fd, -1);
        }
    }

    /// <summary>
    /// Decrypts what has arrived into <paramref name="destination"/> (<see cref="OpenSslRecords.Read"/>): bytes read,
    /// 0 at the end of the stream, −1 when OpenSSL must wait for the socket.
    /// </summary>
    private int TryRead(Span<byte> destination)
    {
        lock (_gate)
        {
            ThrowIfFreed();
            return OpenSslRecords.Read(_ssl, destination);
        }
    }

    private bool HasPending()
    {
        lock (_gate)
        {
            return _ssl != 0 && SSL_has_pending(_ssl) == 1;
        }
    }

    /// <summary>
    /// Encrypts <paramref name="buffer"/> into the send batch and sends it: one send for the flush, a full socket waited
    /// out in <c>poll</c> on a hot thread and queued otherwise (<see cref="RawSocketStream"/>).
    /// </summary>
    public override ValueTask SendAsync(ReadOnlySequence<byte> buffer) => _raw.SendBatchAsync(buffer, static (span, session) => session.WriteAll(span), this);

    private void WriteAll(ReadOnlySpan<byte> source)
    {
        for (var sent = 0; sent < source.Length;)
        {
            sent += Write(source[sent..]);
        }
    }

    /// <summary>Encrypts at most one record from <paramref name="source"/> into the send batch; bytes taken.</summary>
    private int Write(ReadOnlySpan<byte> source)
    {
        lock (_gate)
        {
            ThrowIfFreed();
            return OpenSslRecords.Write(_ssl, source);
        }
    }

    /// <summary>Sends close_notify, once; the peer's answer is not waited for (the socket's FIN follows).</summary>
    public override ValueTask ShutdownAsync()
    {
        lock (_gate)
        {
            if (_ssl != 0)
            {
                ERR_clear_error();
                SSL_shutdown(_ssl);
                ERR_clear_error();
            }
        }

        return _raw.WhenSentAsync();
    }

    /// <summary>Frees the session and stops the sends; every call after this fails as on a closed connection.</summary>
    public override void Detach()
    {
        Free();
        _raw.Detach();
    }

    public override ValueTask DisposeAsync()
    {
        Free();
        _raw.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Free()
    {
        lock (_gate)
        {
            if (_ssl != 0)
            {
                SSL_free(_ssl);
                _ssl = 0;
            }

            if (_sendTarget.IsAllocated)
            {
                _sendTarget.Free();
            }
        }
    }

    private void ThrowIfFreed()
    {
        if (_ssl == 0)
        {
            throw new ObjectDisposedException(nameof(OpenSslSession), "the connection is closed");
        }
    }
}
