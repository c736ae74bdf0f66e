using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Porthole.Protocol.Api;
using Porthole.Protocol.Control;
using Porthole.Tunnel.Transport;

namespace Porthole.FunctionalTests.Fixtures;

/// <summary>Opens sessions the way the web console does (a session for an action, then its stream), with the CLI's token.</summary>
public static class SessionClient
{
    /// <summary>POST /api/v1/sessions; the raw response, for tests of refusals.</summary>
    public static async Task<HttpResponseMessage> RequestAsync(PortholeStack stack, string device, string endpoint, string action)
    {
        using var http = new HttpClient(new ServerTrust(stack.Fingerprint).CreateHandler()) { BaseAddress = stack.ServerUrl };
        http.DefaultRequestHeaders.Authorization = new("Bearer", await TokenAsync(stack));
        return await http.PostAsJsonAsync("/api/v1/sessions", new CreateSessionRequest(device, endpoint, action), ApiJsonContext.Default.CreateSessionRequest);
    }

    /// <summary>Opens the session and joins its stream.</summary>
    public static async Task<WebSocket> OpenAsync(PortholeStack stack, string device, string endpoint, string action)
    {
        using var response = await RequestAsync(stack, device, endpoint, action);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var session = (await response.Content.ReadFromJsonAsync(ApiJsonContext.Default.CreateSessionResponse))!;
        return await new DataWebSocketConnector(new HttpMessageInvoker(new ServerTrust(stack.Fingerprint).CreateHandler())).ConnectAsync(
            DataWebSocketConnector.ToWebSocketUri(stack.ServerUrl, session.StreamPath), await TokenAsync(stack), ControlProtocol.DataSubProtocol,
            new Dictionary<string, string> { [ControlProtocol.SessionKeyHeader] = session.ClientKey }, CancellationToken.None);
    }

    private static async Task<string> TokenAsync(PortholeStack stack) =>
        JsonDocument.Parse(await File.ReadAllTextAsync(stack.ConfigPath)).RootElement.GetProperty("token").GetString()!;
}
