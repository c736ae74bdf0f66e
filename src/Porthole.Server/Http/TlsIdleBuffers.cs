using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Porthole.Server.Http;

/// <summary>
/// Lets OpenSSL free a TLS connection's record buffers while the connection is idle (<c>SSL_MODE_RELEASE_BUFFERS</c>,
/// as nginx sets on every connection). Without it every <c>SSL</c> object keeps a read and a write buffer of about
/// 17 KiB each for its whole life: ≈34 KiB per idle connection, two connections per relayed session (issue 7).
/// .NET does not set the mode and offers no setting for it, so this reaches the connection's <c>SSL*</c> through
/// <see cref="SslStream"/>'s private handle. Where that is not possible (another runtime layout, no OpenSSL, another
/// platform) it does nothing and says so once: the connection works exactly as before, it only keeps its buffers.
/// </summary>
internal static class TlsIdleBuffers
{
    // openssl/ssl.h; the same values in OpenSSL 1.1 and 3.x.
    private const int SslCtrlMode = 33;
    private const nint SslModeReleaseBuffers = 0x10;

    // On Linux the field holds the SafeSslHandle whose handle is the connection's SSL* (.NET 8 to 10).
    private static readonly FieldInfo? SecurityContext = typeof(SslStream).GetField("_securityContext", BindingFlags.Instance | BindingFlags.NonPublic);

    // Resolved on the first call, which follows a handshake, so libssl is loaded by then.
    private static readonly Lazy<SslCtrl?> Ctrl = new(FindSslCtrl);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate nint SslCtrl(nint ssl, int command, nint argument, nint pointer);

    /// <summary>
    /// Sets the mode on the connection under <paramref name="stream"/> (idempotent, cheap). Call it only after the
    /// handshake. Returns whether the connection now releases its buffers when idle; <c>false</c> where this runtime
    /// offers no way to (the connection is unchanged).
    /// </summary>
    public static bool TryRelease(SslStream stream)
    {
        // The handle first: it exists only after a handshake, and only then is libssl sure to be loaded.
        if (!OperatingSystem.IsLinux() || SecurityContext?.GetValue(stream) is not SafeHandle ssl || ssl.IsInvalid || ssl.IsClosed || Ctrl.Value is not { } ctrl)
        {
            return false;
        }

        var added = false;
        try
        {
            // Keeps the SSL* alive while OpenSSL looks at it, should the connection be disposed meanwhile.
            ssl.DangerousAddRef(ref added);

            // SSL_set_mode is a macro over SSL_ctrl; it returns the mode after the change. A plain OR on the SSL's
            // mode word, which OpenSSL only reads while reading and writing: safe next to an I/O in flight.
            return (ctrl(ssl.DangerousGetHandle(), SslCtrlMode, SslModeReleaseBuffers, 0) & SslModeReleaseBuffers) != 0;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            if (added)
            {
                ssl.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// SSL_ctrl from the libssl this process already loaded for <see cref="SslStream"/>, found in
    /// <c>/proc/self/maps</c>: loading a library by name could pick another OpenSSL than the one that made the SSL*.
    /// </summary>
    private static SslCtrl? FindSslCtrl()
    {
        if (!OperatingSystem.IsLinux() || SecurityContext is null)
        {
            return null;
        }

        string? path = null;
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                var start = line.IndexOf('/', StringComparison.Ordinal);
                if (start >= 0 && Path.GetFileName(line.AsSpan(start)).StartsWith("libssl.so", StringComparison.Ordinal))
                {
                    path = line[start..];
                    break;
                }
            }
        }
        catch (IOException)
        {
            return null;
        }

        return path is not null && NativeLibrary.TryLoad(path, out var library) && NativeLibrary.TryGetExport(library, "SSL_ctrl", out var export)
            ? Marshal.GetDelegateForFunctionPointer<SslCtrl>(export)
            : null;
    }
}
