using System.Net.WebSockets;
using Porthole.Cli.Commands;
using Porthole.Protocol.Api;
using Porthole.Protocol.Control;
using Porthole.Tunnel.Transport;

namespace Porthole.Cli.Api;

/// <summary>
/// Opens one session (docs/design/core-tunnel.md, "A session") in one request: the data WebSocket at
/// <c>/api/v1/sessions/connect?device=…&amp;endpoint=…</c>, which the server answers with 101 once the agent has reached
/// the target, or with problem details saying why not. With <paramref name="keepSpare"/> (<c>porthole forward</c>,
/// which opens session after session) it keeps a spare connection for the next session's upgrade
/// (<see cref="SpareConnection"/>). The caller says when to make the spare (<see cref="RefillSpare"/>): once the
/// session has carried bytes both ways, so that its TLS handshake does not compete with the session's first bytes.
/// </summary>
public sealed class SessionOpener(PortholeApiClient api, bool keepSpare = false)
{
    private readonly DataWebSocketConnector _connector = new(api.WebSocketInvoker);
    private readonly SpareConnection? _spare = keepSpare ? new(api.WebSocketInvoker, api.BaseAddress) : null;

    /// <summary>Starts making a spare connection for the next session, if this opener keeps one. Never throws.</summary>
    public void RefillSpare() => _spare?.Refill();

    /// <summary>Opens a session to <paramref name="target"/> and returns its connected data WebSocket.</summary>
    public async Task<WebSocket> OpenAsync(EndpointRef target, CancellationToken cancellationToken)
    {
        var path = $"/api/v1/sessions/connect?device={Uri.EscapeDataString(target.Device)}&endpoint={Uri.EscapeDataString(target.Endpoint)}";
        var uri = DataWebSocketConnector.ToWebSocketUri(api.BaseAddress, path);
        try
        {
            return await _connector.ConnectAsync(uri, api.Token!, ControlProtocol.DataSubProtocol, headers: null, cancellationToken);
        }
        catch (WebSocketRejectedException ex)
        {
            throw api.ToException(ex.StatusCode, null, ex.Body);
        }
        catch (WebSocketException ex) when (ex.InnerException is HttpRequestException inner)
        {
            throw ConnectionErrors.Describe(api.BaseAddress, api.Trust, inner);
        }
        catch (WebSocketException ex)
        {
            throw new CliException($"cannot open the session stream: {ex.Message}", ex);
        }
    }
}
