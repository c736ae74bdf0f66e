using System.Runtime.InteropServices;

namespace Porthole.Bench.Paths.LeanTls;

/// <summary>
/// The few libssl and libc calls the lean relay makes. OpenSSL runs straight on the socket (<c>SSL_set_fd</c>): it
/// reads records into its own buffer and writes them from it, with no memory BIO in between as under <c>SslStream</c>.
/// </summary>
internal static unsafe partial class OpenSslInterop
{
    private const string LibSsl = "libssl.so.3";

    public const int FileTypePem = 1;
    public const int ErrorWantRead = 2;
    public const int ErrorWantWrite = 3;
    private const int CtrlSetReadAhead = 41;

    [LibraryImport(LibSsl)]
    public static partial nint TLS_server_method();

    [LibraryImport(LibSsl)]
    public static partial nint TLS_client_method();

    [LibraryImport(LibSsl)]
    public static partial nint SSL_CTX_new(nint method);

    [LibraryImport(LibSsl, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SSL_CTX_use_certificate_chain_file(nint context, string file);

    [LibraryImport(LibSsl, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SSL_CTX_use_PrivateKey_file(nint context, string file, int type);

    [LibraryImport(LibSsl)]
    private static partial long SSL_CTX_ctrl(nint context, int command, long value, nint pointer);

    [LibraryImport(LibSsl)]
    public static partial void SSL_CTX_set_default_read_buffer_len(nint context, nuint length);

    [LibraryImport(LibSsl)]
    public static partial nint SSL_new(nint context);

    [LibraryImport(LibSsl)]
    public static partial void SSL_free(nint ssl);

    [LibraryImport(LibSsl)]
    public static partial int SSL_set_fd(nint ssl, int fd);

    [LibraryImport(LibSsl)]
    public static partial int SSL_accept(nint ssl);

    [LibraryImport(LibSsl)]
    public static partial int SSL_connect(nint ssl);

    [LibraryImport(LibSsl)]
    public static partial int SSL_read_ex(nint ssl, byte* buffer, nuint length, nuint* read);

    [LibraryImport(LibSsl)]
    public static partial int SSL_write_ex(nint ssl, byte* buffer, nuint length, nuint* written);

    [LibraryImport(LibSsl)]
    public static partial int SSL_get_error(nint ssl, int result);

    [LibraryImport(LibSsl)]
    public static partial int SSL_has_pending(nint ssl);

    /// <summary>Read-ahead: one receive fills OpenSSL's buffer with as many records as are waiting.</summary>
    public static void SetReadAhead(nint context) => SSL_CTX_ctrl(context, CtrlSetReadAhead, 1, 0);

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    public const short PollIn = 1;
    public const short PollOut = 4;
    public const int WouldBlock = 11;
    public const int NoSignal = 0x4000;

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static partial nint Receive(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(int fd, byte* buffer, nint length, int flags);

    /// <summary>Blocks until <paramref name="fd"/> is ready for <paramref name="events"/>.</summary>
    public static void WaitFor(int fd, short events)
    {
        var poll = new PollFd { Fd = fd, Events = events };
        Poll(&poll, 1, -1);
    }
}
