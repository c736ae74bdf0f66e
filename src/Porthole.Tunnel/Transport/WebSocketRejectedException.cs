using System.Net;
using System.Net.WebSockets;

namespace Porthole.Tunnel.Transport;

/// <summary>
/// The server answered a WebSocket upgrade with an HTTP status instead of 101 (e.g. 401 for a revoked credential, or
/// a problem-details refusal of <c>GET /api/v1/sessions/connect</c>).
/// </summary>
public sealed class WebSocketRejectedException(HttpStatusCode statusCode, WebSocketException inner, string? body = null)
    : IOException($"the server refused the WebSocket with HTTP {(int)statusCode} {statusCode}", inner)
{
    public HttpStatusCode StatusCode { get; } = statusCode;

    /// <summary>The answer's body (problem details from Porthole's server), if it had one; at most 64 KiB of it.</summary>
    public string? Body { get; } = body;
}
