using System.Buffers;
using System.Net.Security;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using static Porthole.Server.Transport.Tls.OpenSslCalls;

namespace Porthole.Server.Transport.Tls;

/// <summary>
/// One TLS connection done by OpenSSL straight on the socket's descriptor (<c>SSL_set_fd</c>, read-ahead): records
/// go from the kernel into OpenSSL's buffer and are decrypted into the caller's, and are encrypted and sent from
/// OpenSSL's buffer, with no memory BIO and no copy of ours in between (docs/design/tls-data-plane.md, "OpenSSL on the
/// socket"). The socket is non-blocking: waits happen outside OpenSSL, in <c>poll</c> on a hot thread or on the
/// reactor, and never while holding the session's lock, which every OpenSSL call takes (an <c>SSL*</c> must not be used
/// by two threads at once, and a reader and a relaying writer may both want it).
/// </summary>
internal sealed class OpenSslSession : ConnectionIo, ITlsDetails
{
    // One TLS record's plaintext: the most a read must leave room for, and the most one locked write encrypts.
    private const int RecordSize = 16 * 1024;

    private readonly int _fd;
    private readonly Reactor.Registration _readiness;
    private readonly Lock _gate = new();
    private nint _ssl;

    public OpenSslSession(OpenSslServerContext context, int fd, Reactor.Registration readiness)
    {
        (_fd, _readiness) = (fd, readiness);
        ERR_clear_error();
        _ssl = SSL_new(context.Handle);
        if (_ssl == 0 || SSL_set_fd(_ssl, fd) != 1)
        {
            var reason = TakeError("no reason given");
            Free();
            throw new IOException("OpenSSL could not start a TLS session: " + reason);
        }

        SSL_set_accept_state(_ssl);
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
        Protocol = SSL_version(_ssl) switch
        {
            Tls13Version => SslProtocols.Tls13,
            Tls12Version => SslProtocols.Tls12,
            _ => SslProtocols.None,
        };

        var cipher = SSL_get_current_cipher(_ssl);
        NegotiatedCipherSuite = cipher == 0 ? null : (TlsCipherSuite)SSL_CIPHER_get_protocol_id(cipher);
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
            await _readiness.WhenReadable(WakeInline).ConfigureAwait(false);
        }
    }

    public override bool WaitForInput(int milliseconds) => HasPending() || SocketCalls.WaitReadable(_fd, milliseconds);

    public override async ValueTask<int> ReadAsync(Memory<byte> destination)
    {
        while (true)
        {
            var read = TryRead(destination.Span, out var error);
            if (read >= 0)
            {
                return read;
            }

            await (error == ErrorWantWrite ? _readiness.WhenWritable() : _readiness.WhenReadable(WakeInline)).ConfigureAwait(false);
        }
    }

    public override int Read(Span<byte> destination)
    {
        while (true)
        {
            var read = TryRead(destination, out var error);
            if (read >= 0)
            {
                return read;
            }

            if (error == ErrorWantWrite)
            {
                SocketCalls.WaitWritable(_fd, -1);
            }
            else
            {
                SocketCalls.WaitReadable(_fd, -1);
            }
        }
    }

    /// <summary>
    /// Decrypts what has arrived into <paramref name="destination"/>: as many whole records as fit and are there
    /// already. Bytes read (&gt; 0), 0 at the end of the stream (close_notify or the socket's end), −1 when OpenSSL
    /// must wait for the socket (<paramref name="error"/> says for what).
    /// </summary>
    private unsafe int TryRead(Span<byte> destination, out int error)
    {
        error = ErrorNone;
        var total = 0;
        fixed (byte* start = destination)
        {
            lock (_gate)
            {
                ThrowIfFreed();
                while (true)
                {
                    ERR_clear_error();
                    nuint read;
                    var result = SSL_read_ex(_ssl, start + total, (nuint)(destination.Length - total), &read);
                    if (result == 1)
                    {
                        total += (int)read;

                        // Another record only if one is there and fits whole, so the read never waits for one.
                        if (destination.Length - total >= RecordSize && SSL_has_pending(_ssl) == 1)
                        {
                            continue;
                        }

                        return total;
                    }

                    error = SSL_get_error(_ssl, result);
                    if (total > 0 && error is ErrorWantRead or ErrorWantWrite)
                    {
                        return total;
                    }

                    switch (error)
                    {
                        case ErrorWantRead or ErrorWantWrite:
                            return -1;
                        case ErrorZeroReturn:
                            return total;
                        default:
                            throw new IOException("TLS read failed: " + TakeError(error == ErrorSyscall ? "the connection was reset" : $"error {error}"));
                    }
                }
            }
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
    /// Encrypts and sends <paramref name="buffer"/>. A full socket is waited out in <c>poll</c> on a hot thread (as
    /// <see cref="RawSocketStream"/> does), otherwise on the reactor; completes once OpenSSL has sent every record.
    /// </summary>
    public override ValueTask SendAsync(ReadOnlySequence<byte> buffer)
    {
        var remaining = buffer;
        foreach (var segment in buffer)
        {
            var sent = 0;
            while (sent < segment.Length)
            {
                var now = TryWrite(segment.Span[sent..], out var error);
                if (now > 0)
                {
                    sent += now;
                    continue;
                }

                if (error == ErrorWantWrite && HotThreads.OnHotThread && SocketCalls.WaitWritable(_fd, HotThreads.QuietMilliseconds))
                {
                    continue;
                }

                return SendLaterAsync(remaining.Slice(sent), error);
            }

            remaining = remaining.Slice(segment.Length);
        }

        return ValueTask.CompletedTask;
    }

    private async ValueTask SendLaterAsync(ReadOnlySequence<byte> rest, int error)
    {
        foreach (var segment in rest)
        {
            var sent = 0;
            while (sent < segment.Length)
            {
                if (error != ErrorNone)
                {
                    await (error == ErrorWantRead ? _readiness.WhenReadable(inline: false) : _readiness.WhenWritable()).ConfigureAwait(false);
                }

                var now = TryWrite(segment.Span[sent..], out error);
                sent += Math.Max(now, 0);
            }
        }
    }

    /// <summary>Encrypts and sends at most one record from <paramref name="source"/>; bytes taken, or 0 and why it must wait.</summary>
    private unsafe int TryWrite(ReadOnlySpan<byte> source, out int error)
    {
        error = ErrorNone;
        var length = Math.Min(source.Length, RecordSize);
        fixed (byte* start = source)
        {
            lock (_gate)
            {
                ThrowIfFreed();
                ERR_clear_error();
                nuint written;
                if (SSL_write_ex(_ssl, start, (nuint)length, &written) == 1)
                {
                    return (int)written;
                }

                error = SSL_get_error(_ssl, 0);
                if (error is ErrorWantWrite or ErrorWantRead)
                {
                    return 0;
                }

                throw new IOException("TLS send failed: " + TakeError(error == ErrorSyscall ? "the connection ended" : $"error {error}"));
            }
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

        return ValueTask.CompletedTask;
    }

    /// <summary>Frees the session; every call after this fails as on a closed connection. Before the descriptor is closed.</summary>
    public override void Detach() => Free();

    public override ValueTask DisposeAsync()
    {
        Free();
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
        }
    }

    private void ThrowIfFreed()
    {
        if (_ssl == 0)
        {
            throw new ObjectDisposedException("the connection is closed");
        }
    }
}
