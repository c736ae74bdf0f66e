using System.Runtime.InteropServices;

namespace Porthole.Tunnel.Tls;

/// <summary>
/// The libssl and libcrypto calls of the server's OpenSSL sessions and of <see cref="OpenSslClientStream"/>, bound by name
/// against OpenSSL 3 (the library .NET's own TLS loads on Linux). Constants are OpenSSL 3's, from its public headers.
/// </summary>
public static unsafe partial class OpenSslCalls
{
    public const string LibSsl = "libssl.so.3";
    public const string LibCrypto = "libcrypto.so.3";

    // SSL_get_error
    public const int ErrorNone = 0;
    public const int ErrorWantRead = 2;
    public const int ErrorWantWrite = 3;
    public const int ErrorSsl = 1;
    public const int ErrorSyscall = 5;
    public const int ErrorZeroReturn = 6;

    // SSL_CTX_ctrl commands and their values
    public const int CtrlMode = 33;
    public const int CtrlSetReadAhead = 41;
    public const int CtrlChainCert = 89;
    public const int CtrlSetMinProtoVersion = 123;
    public const long ModeEnablePartialWrite = 0x1;
    public const long ModeAcceptMovingWriteBuffer = 0x2;
    public const long ModeReleaseBuffers = 0x10;
    public const int Tls12Version = 0x0303;
    public const int Tls13Version = 0x0304;

    // SSL_CTX_set_options
    public const ulong OptionIgnoreUnexpectedEof = 1UL << 7;
    public const ulong OptionNoCompression = 1UL << 17;
    public const ulong OptionCipherServerPreference = 1UL << 22;
    public const ulong OptionNoRenegotiation = 1UL << 30;

    // ALPN selection callback results; SSL_select_next_proto's
    public const int TlsExtensionOk = 0;
    public const int TlsExtensionNoAck = 3;
    public const int NextProtocolNegotiated = 1;

    public const int NameTypeHostName = 0;

    [LibraryImport(LibSsl)]
    public static partial nint TLS_server_method();

    [LibraryImport(LibSsl)]
    public static partial nint SSL_CTX_new(nint method);

    [LibraryImport(LibSsl)]
    public static partial void SSL_CTX_free(nint context);

    [LibraryImport(LibSsl)]
    public static partial long SSL_CTX_ctrl(nint context, int command, long value, nint pointer);

    [LibraryImport(LibSsl)]
    public static partial ulong SSL_CTX_set_options(nint context, ulong options);

    [LibraryImport(LibSsl, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SSL_CTX_set_cipher_list(nint context, string ciphers);

    [LibraryImport(LibSsl, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SSL_CTX_set_ciphersuites(nint context, string suites);

    [LibraryImport(LibSsl)]
    public static partial int SSL_CTX_use_certificate(nint context, nint certificate);

    [LibraryImport(LibSsl)]
    public static partial int SSL_CTX_use_PrivateKey(nint context, nint key);

    [LibraryImport(LibSsl)]
    public static partial int SSL_CTX_check_private_key(nint context);

    [LibraryImport(LibSsl)]
    public static partial void SSL_set_default_read_buffer_len(nint ssl, nuint length);

    [LibraryImport(LibSsl)]
    public static partial void SSL_CTX_set_alpn_select_cb(nint context, delegate* unmanaged<nint, byte**, byte*, byte*, uint, nint, int> callback, nint argument);

    [LibraryImport(LibSsl)]
    public static partial int SSL_select_next_proto(byte** output, byte* outputLength, byte* server, uint serverLength, byte* client, uint clientLength);

    // Client side: SSL_CTRL_SET_TLSEXT_HOSTNAME, SSL_CTRL_SET_SESS_CACHE_MODE and its modes, SSL_VERIFY_NONE
    public const int CtrlSetTlsExtHostName = 55;
    public const int CtrlSetSessionCacheMode = 44;
    public const long SessionCacheClient = 0x1;
    public const long SessionCacheNoInternal = 0x300;
    public const int VerifyNone = 0;

    [LibraryImport(LibSsl)]
    public static partial nint TLS_client_method();

    [LibraryImport(LibSsl)]
    public static partial void SSL_CTX_set_verify(nint context, int mode, nint callback);

    [LibraryImport(LibSsl)]
    public static partial void SSL_CTX_sess_set_new_cb(nint context, delegate* unmanaged<nint, nint, int> callback);

    [LibraryImport(LibSsl)]
    public static partial void SSL_set_connect_state(nint ssl);

    [LibraryImport(LibSsl)]
    public static partial long SSL_ctrl(nint ssl, int command, long value, nint pointer);

    [LibraryImport(LibSsl)]
    public static partial int SSL_set_alpn_protos(nint ssl, byte* protocols, uint length);

    [LibraryImport(LibSsl)]
    public static partial int SSL_set_ex_data(nint ssl, int index, nint data);

    [LibraryImport(LibSsl)]
    public static partial nint SSL_get_ex_data(nint ssl, int index);

    [LibraryImport(LibSsl)]
    public static partial int SSL_set_session(nint ssl, nint session);

    [LibraryImport(LibSsl)]
    public static partial int SSL_session_reused(nint ssl);

    [LibraryImport(LibSsl)]
    public static partial void SSL_SESSION_free(nint session);

    [LibraryImport(LibSsl)]
    public static partial nint SSL_get_peer_cert_chain(nint ssl);

    [LibraryImport(LibSsl)]
    public static partial int SSL_peek_ex(nint ssl, byte* buffer, nuint length, nuint* read);

    [LibraryImport(LibCrypto)]
    public static partial int OPENSSL_sk_num(nint stack);

    [LibraryImport(LibCrypto)]
    public static partial nint OPENSSL_sk_value(nint stack, int index);

    [LibraryImport(LibCrypto)]
    public static partial int i2d_X509(nint certificate, byte** output);

    [LibraryImport(LibSsl)]
    public static partial nint SSL_new(nint context);

    [LibraryImport(LibSsl)]
    public static partial void SSL_free(nint ssl);

    [LibraryImport(LibSsl)]
    public static partial void SSL_set_accept_state(nint ssl);

    [LibraryImport(LibSsl)]
    public static partial int SSL_do_handshake(nint ssl);

    [LibraryImport(LibSsl)]
    public static partial int SSL_read_ex(nint ssl, byte* buffer, nuint length, nuint* read);

    [LibraryImport(LibSsl)]
    public static partial int SSL_write_ex(nint ssl, byte* buffer, nuint length, nuint* written);

    [LibraryImport(LibSsl)]
    public static partial int SSL_get_error(nint ssl, int result);

    [LibraryImport(LibSsl)]
    public static partial int SSL_has_pending(nint ssl);

    [LibraryImport(LibSsl)]
    public static partial int SSL_shutdown(nint ssl);

    [LibraryImport(LibSsl)]
    public static partial int SSL_version(nint ssl);

    [LibraryImport(LibSsl)]
    public static partial nint SSL_get_current_cipher(nint ssl);

    [LibraryImport(LibSsl)]
    public static partial ushort SSL_CIPHER_get_protocol_id(nint cipher);

    [LibraryImport(LibSsl)]
    public static partial nint SSL_get_servername(nint ssl, int type);

    [LibraryImport(LibSsl)]
    public static partial void SSL_get0_alpn_selected(nint ssl, byte** data, uint* length);

    [LibraryImport(LibSsl)]
    public static partial void SSL_set_bio(nint ssl, nint readBio, nint writeBio);

    // BIO_CTRL_FLUSH; BIO_TYPE_SOURCE_SINK
    public const int BioControlFlush = 11;
    public const int BioTypeSourceSink = 0x0400;

    [LibraryImport(LibCrypto)]
    public static partial int BIO_get_new_index();

    [LibraryImport(LibCrypto)]
    public static partial nint BIO_meth_new(int type, byte* name);

    [LibraryImport(LibCrypto)]
    public static partial int BIO_meth_set_write(nint method, delegate* unmanaged<nint, byte*, int, int> write);

    [LibraryImport(LibCrypto)]
    public static partial int BIO_meth_set_ctrl(nint method, delegate* unmanaged<nint, int, long, nint, long> control);

    [LibraryImport(LibCrypto)]
    public static partial nint BIO_new(nint method);

    [LibraryImport(LibCrypto)]
    public static partial int BIO_free(nint bio);

    [LibraryImport(LibCrypto)]
    public static partial void BIO_set_data(nint bio, nint data);

    [LibraryImport(LibCrypto)]
    public static partial nint BIO_get_data(nint bio);

    [LibraryImport(LibCrypto)]
    public static partial void BIO_set_init(nint bio, int init);

    [LibraryImport(LibCrypto)]
    public static partial nint BIO_new_socket(int fd, int closeFlag);

    [LibraryImport(LibCrypto)]
    public static partial nint d2i_X509(nint reuse, byte** data, long length);

    [LibraryImport(LibCrypto)]
    public static partial void X509_free(nint certificate);

    [LibraryImport(LibCrypto)]
    public static partial nint d2i_AutoPrivateKey(nint reuse, byte** data, long length);

    [LibraryImport(LibCrypto)]
    public static partial void EVP_PKEY_free(nint key);

    [LibraryImport(LibCrypto)]
    public static partial ulong ERR_get_error();

    [LibraryImport(LibCrypto)]
    public static partial void ERR_clear_error();

    [LibraryImport(LibCrypto)]
    public static partial ulong ERR_peek_error();

    // ERR_GET_LIB / ERR_GET_REASON of OpenSSL 3's packed error codes; ERR_LIB_SSL; SSL_R_UNEXPECTED_EOF_WHILE_READING
    private const int ErrorLibraryOffset = 23;
    private const ulong ErrorLibraryMask = 0xFF;
    private const ulong ErrorReasonMask = 0x7FFFFF;
    private const ulong LibrarySsl = 20;
    private const ulong ReasonUnexpectedEof = 294;

    /// <summary>
    /// Whether the oldest error on this thread's queue says the peer closed the connection mid-record (how OpenSSL reports
    /// it under <see cref="OptionIgnoreUnexpectedEof"/> during a handshake); the queue is left as it is.
    /// </summary>
    public static bool IsUnexpectedEof()
    {
        var error = ERR_peek_error();
        return ((error >> ErrorLibraryOffset) & ErrorLibraryMask) == LibrarySsl && (error & ErrorReasonMask) == ReasonUnexpectedEof;
    }

    [LibraryImport(LibCrypto)]
    public static partial void ERR_error_string_n(ulong error, byte* buffer, nuint length);

    /// <summary>The oldest error on this thread's OpenSSL queue as text (the queue is then cleared), or <paramref name="fallback"/>.</summary>
    public static string TakeError(string fallback)
    {
        var error = ERR_get_error();
        ERR_clear_error();
        if (error == 0)
        {
            return fallback;
        }

        var text = stackalloc byte[256];
        ERR_error_string_n(error, text, 256);
        return Marshal.PtrToStringUTF8((nint)text) ?? fallback;
    }
}
