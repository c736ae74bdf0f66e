using System.Runtime.InteropServices;
using static Porthole.Tunnel.Tls.OpenSslCalls;

namespace Porthole.Tunnel.Tls;

/// <summary>
/// The OpenSSL context (<c>SSL_CTX</c>) of one client handler's connections to the server, and its session cache: the
/// latest session per host and port, offered on the next connection there so that it resumes instead of doing a full
/// handshake. One per handler, so one trust decision per cache (docs/design/tls-data-plane.md, "OpenSSL in the agent
/// and the CLI"). It does not verify certificates: <see cref="Transport.ServerCertificateCheck"/> does, after the handshake.
/// </summary>
public sealed unsafe class OpenSslClientContext : IDisposable
{
    private readonly Dictionary<string, nint> _sessions = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private nint _context;

    private OpenSslClientContext(nint context) => _context = context;

    /// <summary>Whether libssl 3 and libcrypto 3 load here.</summary>
    public static bool IsSupported { get; } = OperatingSystem.IsLinux() && NativeLibrary.TryLoad(LibSsl, out _) && NativeLibrary.TryLoad(LibCrypto, out _);

    /// <summary>A context for TLS 1.2 and 1.3 with OpenSSL's default suites (the server chooses; it prefers AES-128-GCM).</summary>
    /// <exception cref="DllNotFoundException">libssl 3 is not here.</exception>
    /// <exception cref="EntryPointNotFoundException">The library lacks a call this context needs.</exception>
    public static OpenSslClientContext Create()
    {
        ERR_clear_error();
        var context = SSL_CTX_new(TLS_client_method());
        if (context == 0)
        {
            throw new InvalidOperationException("OpenSSL could not create a TLS context: " + TakeError("no reason given"));
        }

        SSL_CTX_ctrl(context, CtrlSetMinProtoVersion, Tls12Version, 0);
        SSL_CTX_set_options(context, OptionNoCompression | OptionNoRenegotiation | OptionIgnoreUnexpectedEof);

        // Each write is encrypted whole into the stream's batch, so OpenSSL never has a partial write to retry; idle
        // connections (an agent's control channel) give their record buffers back.
        SSL_CTX_ctrl(context, CtrlMode, ModeReleaseBuffers, 0);
        SSL_CTX_ctrl(context, CtrlSetReadAhead, 1, 0);
        SSL_CTX_set_verify(context, VerifyNone, 0);

        // Sessions are kept here, not in OpenSSL's internal cache (which a client does not look up by itself).
        SSL_CTX_ctrl(context, CtrlSetSessionCacheMode, SessionCacheClient | SessionCacheNoInternal, 0);
        SSL_CTX_sess_set_new_cb(context, &OnNewSession);
        return new OpenSslClientContext(context);
    }

    /// <summary>
    /// A new <c>SSL*</c> of this context, offered the latest session for <paramref name="key"/> if there is one; 0 when
    /// OpenSSL could not make one (its error queue says why).
    /// </summary>
    /// <exception cref="ObjectDisposedException">The context was disposed (its handler was).</exception>
    internal nint NewSsl(string key)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_context == 0, this);
            var ssl = SSL_new(_context);
            if (ssl != 0 && _sessions.TryGetValue(key, out var session))
            {
                // SSL_set_session takes its own reference.
                SSL_set_session(ssl, session);
            }

            return ssl;
        }
    }

    /// <summary>Keeps <paramref name="session"/> (whose reference it takes) as the latest for <paramref name="key"/>.</summary>
    internal bool Keep(string key, nint session)
    {
        lock (_gate)
        {
            if (_context == 0)
            {
                return false;
            }

            if (_sessions.Remove(key, out var older))
            {
                SSL_SESSION_free(older);
            }

            _sessions[key] = session;
            return true;
        }
    }

    // A new session (TLS 1.2 at the handshake, TLS 1.3 with each ticket the server sends after it). Returning 1 keeps
    // OpenSSL's reference for the cache; 0 lets OpenSSL drop it.
    [UnmanagedCallersOnly]
    private static int OnNewSession(nint ssl, nint session)
    {
        try
        {
            return OpenSslClientStream.FromSsl(ssl) is { } stream && stream.TakeSession(session) ? 1 : 0;
        }
        catch (Exception)
        {
            // Nothing may cross back into native code; without the session the next connection does a full handshake.
            return 0;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var session in _sessions.Values)
            {
                SSL_SESSION_free(session);
            }

            _sessions.Clear();
            if (_context != 0)
            {
                // Sessions still open hold their own reference to the context.
                SSL_CTX_free(_context);
                _context = 0;
            }
        }
    }
}
