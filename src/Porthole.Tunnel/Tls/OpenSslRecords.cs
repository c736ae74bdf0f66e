using System.Net.Security;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using static Porthole.Tunnel.Tls.OpenSslCalls;

namespace Porthole.Tunnel.Tls;

/// <summary>
/// What the server's OpenSSL sessions and the clients' <see cref="OpenSslClientStream"/> do alike with an <c>SSL*</c>:
/// decrypt what has arrived, encrypt a record, report what was negotiated. The caller holds the connection's lock and
/// has checked that the session is not freed; nothing here waits.
/// </summary>
public static unsafe class OpenSslRecords
{
    /// <summary>One TLS record's plaintext: the most one <see cref="Write"/> encrypts, and what a read must have room for.</summary>
    public const int RecordSize = 16 * 1024;

    /// <summary>
    /// Makes <paramref name="ssl"/> (new, from <c>SSL_new</c>; 0 if that failed) read records straight from the socket
    /// <paramref name="fd"/> (a socket BIO; read-ahead comes from the context) and write them into
    /// <paramref name="sink"/> (<see cref="RecordSinkBio"/>), which <paramref name="sinkHandle"/> holds until the caller
    /// frees it after the session. The session owns both BIOs from here on and frees them with itself.
    /// </summary>
    /// <exception cref="IOException">OpenSSL could not; the message says why. The caller still frees <paramref name="ssl"/>.</exception>
    public static void AttachToSocket(nint ssl, int fd, ITlsRecordSink sink, out GCHandle sinkHandle)
    {
        sinkHandle = default;
        var receive = ssl == 0 ? 0 : BIO_new_socket(fd, 0);
        if (receive == 0)
        {
            throw new IOException("OpenSSL could not start a TLS session: " + TakeError("no reason given"));
        }

        nint send;
        try
        {
            send = RecordSinkBio.Create(sink, out sinkHandle);
        }
        catch
        {
            BIO_free(receive);
            throw;
        }

        SSL_set_bio(ssl, receive, send);
    }

    /// <summary>
    /// Decrypts what has arrived into <paramref name="destination"/>: as many whole records as fit and are there
    /// already. Bytes read (&gt; 0), 0 at the end of the stream (close_notify or the socket's end), −1 when OpenSSL
    /// must wait for the socket.
    /// </summary>
    /// <exception cref="IOException">The connection failed; the message is OpenSSL's reason.</exception>
    public static int Read(nint ssl, Span<byte> destination)
    {
        var total = 0;
        fixed (byte* start = destination)
        {
            while (true)
            {
                ERR_clear_error();
                nuint read;
                var result = SSL_read_ex(ssl, start + total, (nuint)(destination.Length - total), &read);
                if (result == 1)
                {
                    total += (int)read;

                    // Another record only if one is there and fits whole, so the read never waits for one.
                    if (destination.Length - total >= RecordSize && SSL_has_pending(ssl) == 1)
                    {
                        continue;
                    }

                    return total;
                }

                var error = SSL_get_error(ssl, result);
                if (total > 0 && error is ErrorWantRead or ErrorWantWrite)
                {
                    return total;
                }

                return error switch
                {
                    ErrorWantRead or ErrorWantWrite => -1,
                    ErrorZeroReturn => total,
                    _ => throw new IOException("TLS read failed: " + TakeError(error == ErrorSyscall ? "the connection was reset" : $"error {error}")),
                };
            }
        }
    }

    /// <summary>
    /// Encrypts at most one record from <paramref name="source"/> into the session's send BIO (a
    /// <see cref="RecordSinkBio"/>, which never asks to be retried); bytes taken.
    /// </summary>
    /// <exception cref="IOException">The connection failed; the message is OpenSSL's reason.</exception>
    public static int Write(nint ssl, ReadOnlySpan<byte> source)
    {
        var length = Math.Min(source.Length, RecordSize);
        fixed (byte* start = source)
        {
            ERR_clear_error();
            nuint written;
            if (SSL_write_ex(ssl, start, (nuint)length, &written) == 1)
            {
                return (int)written;
            }

            var error = SSL_get_error(ssl, 0);
            throw new IOException("TLS send failed: " + TakeError(error == ErrorSyscall ? "the connection ended" : $"error {error}"));
        }
    }

    /// <summary>The negotiated protocol version, after the handshake.</summary>
    public static SslProtocols Protocol(nint ssl) => SSL_version(ssl) switch
    {
        Tls13Version => SslProtocols.Tls13,
        Tls12Version => SslProtocols.Tls12,
        _ => SslProtocols.None,
    };

    /// <summary>The negotiated cipher suite, after the handshake.</summary>
    public static TlsCipherSuite? CipherSuite(nint ssl)
    {
        var cipher = SSL_get_current_cipher(ssl);
        return cipher == 0 ? null : (TlsCipherSuite)SSL_CIPHER_get_protocol_id(cipher);
    }
}
