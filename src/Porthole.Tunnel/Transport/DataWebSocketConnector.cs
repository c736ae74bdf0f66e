using System.Net.WebSockets;
using Porthole.Protocol.Control;

namespace Porthole.Tunnel.Transport;

/// <summary>Opens WebSockets to the server with the client's trust settings, proxy and keep-alive.</summary>
public sealed class DataWebSocketConnector(HttpMessageInvoker invoker)
{
    /// <summary>Interval of WebSocket pings; also detects a dead peer together with <see cref="KeepAliveTimeout"/>.</summary>
    public static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(15);

    /// <summary>A peer that does not answer a ping within this time is considered gone.</summary>
    public static readonly TimeSpan KeepAliveTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Connects to <paramref name="uri"/> (ws/wss) with <c>Authorization: Bearer</c> and optional extra headers.
    /// </summary>
    public async Task<ClientWebSocket> ConnectAsync(Uri uri, string bearer, string subProtocol, IReadOnlyDictionary<string, string>? headers, CancellationToken cancellationToken)
    {
        var ws = new ClientWebSocket();
        try
        {
            ws.Options.SetRequestHeader("Authorization", "Bearer " + bearer);
            if (headers is not null)
            {
                foreach (var (name, value) in headers)
                {
                    ws.Options.SetRequestHeader(name, value);
                }
            }

            ws.Options.AddSubProtocol(subProtocol);
            ws.Options.KeepAliveInterval = KeepAliveInterval;
            ws.Options.KeepAliveTimeout = KeepAliveTimeout;
            ws.Options.CollectHttpResponseDetails = true;
            await ws.ConnectAsync(uri, invoker, cancellationToken).ConfigureAwait(false);
            return ws;
        }
        catch (WebSocketException ex) when (ws.HttpStatusCode is not 0 and not System.Net.HttpStatusCode.SwitchingProtocols)
        {
            var status = ws.HttpStatusCode;
            ws.Dispose();
            throw new WebSocketRejectedException(status, ex);
        }
        catch
        {
            ws.Dispose();
            throw;
        }
    }

    /// <summary>Turns an http(s) server base address and a path into a ws(s) URI.</summary>
    public static Uri ToWebSocketUri(Uri server, string path)
    {
        var builder = new UriBuilder(new Uri(server, path))
        {
            Scheme = server.Scheme == Uri.UriSchemeHttps ? "wss" : "ws",
        };
        return builder.Uri;
    }

    /// <summary>The sub-protocol of a session's data WebSocket.</summary>
    public const string DataSubProtocol = ControlProtocol.DataSubProtocol;
}
