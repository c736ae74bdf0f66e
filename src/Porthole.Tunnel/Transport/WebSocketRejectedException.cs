using System.Net;
using System.Net.WebSockets;

namespace Porthole.Tunnel.Transport;

/// <summary>The server answered a WebSocket upgrade with an HTTP status instead of 101 (e.g. 401 for a revoked credential).</summary>
public sealed class WebSocketRejectedException(HttpStatusCode statusCode, WebSocketException inner)
    : IOException($"the server refused the WebSocket with HTTP {(int)statusCode} {statusCode}", inner)
{
    public HttpStatusCode StatusCode { get; } = statusCode;
}
