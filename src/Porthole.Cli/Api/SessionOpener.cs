using System.Net.WebSockets;
using Porthole.Cli.Commands;
using Porthole.Protocol.Api;
using Porthole.Protocol.Control;
using Porthole.Tunnel.Transport;

namespace Porthole.Cli.Api;

/// <summary>
/// Opens one session (docs/design/core-tunnel.md, "A session"): <c>POST /api/v1/sessions</c>, which answers only
/// once the agent reached the target, then the client leg's data WebSocket at the returned <c>streamPath</c>.
/// </summary>
public sealed class SessionOpener(PortholeApiClient api)
{
    private readonly DataWebSocketConnector _connector = new(api.WebSocketInvoker);

    /// <summary>Opens a session to <paramref name="target"/> and returns its connected data WebSocket.</summary>
    public async Task<WebSocket> OpenAsync(EndpointRef target, CancellationToken cancellationToken)
    {
        var session = await api.CreateSessionAsync(new CreateSessionRequest(target.Device, target.Endpoint), cancellationToken);
        var uri = DataWebSocketConnector.ToWebSocketUri(api.BaseAddress, session.StreamPath);
        var headers = new Dictionary<string, string> { [ControlProtocol.SessionKeyHeader] = session.ClientKey };
        try
        {
            return await _connector.ConnectAsync(uri, api.Token!, ControlProtocol.DataSubProtocol, headers, cancellationToken);
        }
        catch (WebSocketException ex) when (ex.InnerException is HttpRequestException inner)
        {
            throw ConnectionErrors.Describe(api.BaseAddress, api.Trust, inner);
        }
        catch (WebSocketException ex)
        {
            throw new CliException($"cannot join the session stream: {ex.Message}", ex);
        }
    }
}
