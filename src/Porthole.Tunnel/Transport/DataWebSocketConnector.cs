using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Porthole.Protocol.Control;

namespace Porthole.Tunnel.Transport;

/// <summary>
/// Opens WebSockets to the server with the client's trust settings, proxy and keep-alive. The HTTP/1.1 upgrade
/// (RFC 6455 section 4.1) is done here rather than by <see cref="ClientWebSocket"/> so that the connection under
/// the WebSocket can be watched for a silent peer (<see cref="SilentPeerStream"/>).
/// </summary>
public sealed class DataWebSocketConnector(HttpMessageInvoker invoker, KeepAliveSettings? keepAlive = null)
{
    /// <summary>RFC 6455 section 1.3: the GUID the server appends to the key in <c>Sec-WebSocket-Accept</c>.</summary>
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>
    /// Longest wait for the server's answer to the upgrade (TCP, TLS and HTTP together). Keep-alive watches a connection
    /// only once it is a WebSocket; before that a server that accepts the connection but never answers would hang the
    /// agent's reconnect loop for good.
    /// </summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The keep-alive of WebSockets this connector opens.</summary>
    public KeepAliveSettings KeepAlive { get; } = keepAlive ?? KeepAliveSettings.Default;

    /// <summary>
    /// Connects to <paramref name="uri"/> (ws/wss) with <c>Authorization: Bearer</c> and optional extra headers.
    /// </summary>
    /// <exception cref="WebSocketRejectedException">The server answered with an HTTP status instead of 101.</exception>
    /// <exception cref="WebSocketException">The connection failed (its inner exception says how) or the answer was not a valid upgrade.</exception>
    public async Task<WebSocket> ConnectAsync(Uri uri, string bearer, string subProtocol, IReadOnlyDictionary<string, string>? headers, CancellationToken cancellationToken)
    {
        var connection = await UpgradeAsync(uri, bearer, subProtocol, headers, cancellationToken).ConfigureAwait(false);
        return WebSocket.CreateFromStream(connection, new WebSocketCreationOptions
        {
            IsServer = false,
            SubProtocol = subProtocol,
            KeepAliveInterval = KeepAlive.Interval,
            KeepAliveTimeout = KeepAliveSettings.WebSocketPongTimeout,
        });
    }

    /// <summary>
    /// Does the upgrade <see cref="ConnectAsync"/> does and returns the connection itself, watched for a silent peer,
    /// for a caller that reads and writes the frames on its own (the agent's streams connection). Disposing it closes it.
    /// </summary>
    /// <exception cref="WebSocketRejectedException">The server answered with an HTTP status instead of 101.</exception>
    /// <exception cref="WebSocketException">The connection failed (its inner exception says how) or the answer was not a valid upgrade.</exception>
    public async Task<Stream> UpgradeAsync(Uri uri, string bearer, string subProtocol, IReadOnlyDictionary<string, string>? headers, CancellationToken cancellationToken)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        using var request = new HttpRequestMessage(HttpMethod.Get, ToHttpUri(uri))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
        request.Headers.TryAddWithoutValidation("Connection", "Upgrade");
        request.Headers.TryAddWithoutValidation("Upgrade", "websocket");
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Version", "13");
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Key", key);
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Protocol", subProtocol);
        if (headers is not null)
        {
            foreach (var (name, value) in headers)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        HttpResponseMessage response;
        using var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        handshake.CancelAfter(HandshakeTimeout);
        try
        {
            response = await invoker.SendAsync(request, handshake.Token).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            // The same shape ClientWebSocket uses, so callers tell connection failures apart by the inner exception.
            throw new WebSocketException(WebSocketError.Faulted, "Unable to connect to the remote server", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new WebSocketException(WebSocketError.Faulted, $"the server did not answer the WebSocket upgrade within {HandshakeTimeout.TotalSeconds:0} s", ex);
        }

        try
        {
            if (response.StatusCode != HttpStatusCode.SwitchingProtocols)
            {
                // Unlike ClientWebSocket, this upgrade can read a refusal's body: the server's problem details say why.
                throw new WebSocketRejectedException(response.StatusCode, new WebSocketException(
                    WebSocketError.NotAWebSocket, $"The server returned status code '{(int)response.StatusCode}' when status code '101' was expected."),
                    await ReadRefusalAsync(response, handshake.Token).ConfigureAwait(false));
            }

            var expectedAccept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));
            if (!response.Headers.TryGetValues("Sec-WebSocket-Accept", out var accept) || accept.FirstOrDefault() != expectedAccept)
            {
                throw new WebSocketException(WebSocketError.HeaderError, "the server's Sec-WebSocket-Accept does not match the key");
            }

            if (!response.Headers.TryGetValues("Sec-WebSocket-Protocol", out var chosen) || chosen.FirstOrDefault() != subProtocol)
            {
                throw new WebSocketException(WebSocketError.UnsupportedProtocol, $"the server did not accept the sub-protocol '{subProtocol}'");
            }

            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return new SilentPeerStream(stream, KeepAlive);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>The body of a refused upgrade, up to <see cref="MaxRefusalBytes"/>; <c>null</c> when there is none or it cannot be read.</summary>
    private static async Task<string?> ReadRefusalAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var buffer = new byte[MaxRefusalBytes];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
            {
                length += read;
            }

            return length == 0 ? null : Encoding.UTF8.GetString(buffer, 0, length);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
        {
            return null;
        }
    }

    private const int MaxRefusalBytes = 64 * 1024;

    /// <summary>Turns an http(s) server base address and a path into a ws(s) URI.</summary>
    public static Uri ToWebSocketUri(Uri server, string path)
    {
        var builder = new UriBuilder(new Uri(server, path))
        {
            Scheme = server.Scheme == Uri.UriSchemeHttps ? "wss" : "ws",
        };
        return builder.Uri;
    }

    private static Uri ToHttpUri(Uri uri) => uri.Scheme switch
    {
        "wss" => new UriBuilder(uri) { Scheme = Uri.UriSchemeHttps }.Uri,
        "ws" => new UriBuilder(uri) { Scheme = Uri.UriSchemeHttp }.Uri,
        _ => uri,
    };

    /// <summary>The sub-protocol of a session's data WebSocket.</summary>
    public const string DataSubProtocol = ControlProtocol.DataSubProtocol;
}
