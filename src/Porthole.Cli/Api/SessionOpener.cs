using System.Net.WebSockets;
using Porthole.Cli.Commands;
using Porthole.Protocol.Api;
using Porthole.Protocol.Control;
using Porthole.Tunnel.Transport;

namespace Porthole.Cli.Api;

/// <summary>
/// Opens one session (docs/design/core-tunnel.md, "A session"): <c>POST /api/v1/sessions</c>, which answers only
/// once the agent reached the target, then the client leg's data WebSocket at the returned <c>streamPath</c>.
/// With <paramref name="keepSpare"/> (<c>porthole forward</c>, which opens session after session) it keeps a spare
/// connection for the next session's <c>POST</c> (<see cref="SpareConnection"/>); the upgrade runs on the
/// <c>POST</c>'s own connection, which the pool hands back once the answer is read. The caller says when to make
/// the spare (<see cref="RefillSpare"/>): once the session has carried bytes both ways, so that its TLS handshake
/// does not compete with the session's first bytes.
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
