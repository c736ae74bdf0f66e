using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json;
using Porthole.Protocol.Api;
using Porthole.Protocol.Control;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Transport;

namespace Porthole.FunctionalTests.Fixtures;

/// <summary>
/// A client of the sessions API without the CLI: opens sessions with one shared HTTP client (so a test can open
/// hundreds at once cheaply) and speaks the data framing itself (binary bytes, <c>fin</c>, close with reason).
/// </summary>
public sealed class DataSessionClient : IDisposable
{
    private readonly PortholeStack _stack;
    private readonly string _token;
    private readonly HttpClient _http;
    private readonly HttpMessageInvoker _webSockets;

    public DataSessionClient(PortholeStack stack)
    {
        _stack = stack;
        _token = JsonDocument.Parse(File.ReadAllText(stack.ConfigPath)).RootElement.GetProperty("token").GetString()!;
        _http = new HttpClient(Trust(stack).CreateHandler()) { BaseAddress = stack.ServerUrl, Timeout = TimeSpan.FromSeconds(90) };
        _http.DefaultRequestHeaders.Authorization = new("Bearer", _token);
        _webSockets = new HttpMessageInvoker(Trust(stack).CreateHandler());
    }

    /// <summary>The server's certificate pinned, or the system's trust for a stack on plain HTTP (no certificate to check).</summary>
    private static ServerTrust Trust(PortholeStack stack) => stack.PlainHttp ? ServerTrust.System : new ServerTrust(stack.Fingerprint);

    /// <summary>The API client with the CLI's token, for other calls (list sessions, audit).</summary>
    public HttpClient Http => _http;

    /// <summary>POST /api/v1/sessions; the raw response.</summary>
    public Task<HttpResponseMessage> RequestAsync(string device, string endpoint, CancellationToken cancellationToken = default) =>
        _http.PostAsJsonAsync("/api/v1/sessions", new CreateSessionRequest(device, endpoint, "tunnel"), ApiJsonContext.Default.CreateSessionRequest, cancellationToken);

    /// <summary>Opens a session and joins its stream; fails the test with the server's answer if it is refused.</summary>
    public async Task<(string Id, WebSocket WebSocket)> OpenAsync(string device, string endpoint, CancellationToken cancellationToken = default)
    {
        using var response = await RequestAsync(device, endpoint, cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        var session = (await response.Content.ReadFromJsonAsync(ApiJsonContext.Default.CreateSessionResponse, cancellationToken))!;
        var webSocket = await new DataWebSocketConnector(_webSockets).ConnectAsync(
            DataWebSocketConnector.ToWebSocketUri(_stack.ServerUrl, session.StreamPath), _token, ControlProtocol.DataSubProtocol,
            new Dictionary<string, string> { [ControlProtocol.SessionKeyHeader] = session.ClientKey }, cancellationToken);
        return (session.SessionId, webSocket);
    }

    /// <summary>The sessions GET /api/v1/sessions lists now.</summary>
    public async Task<List<ActiveSessionDto>> ListAsync() =>
        (await _http.GetFromJsonAsync("/api/v1/sessions", ApiJsonContext.Default.ListActiveSessionDto))!;

    /// <summary>The newest audit records whose action is (or starts with) <paramref name="action"/>.</summary>
    public async Task<IReadOnlyList<AuditEntryDto>> AuditAsync(string action) =>
        (await _http.GetFromJsonAsync($"/api/v1/audit?action={Uri.EscapeDataString(action)}", ApiJsonContext.Default.AuditPage))!.Entries;

    public void Dispose()
    {
        _http.Dispose();
        _webSockets.Dispose();
    }
}

/// <summary>What one session of <see cref="DataExchanges.RunConcurrentlyAsync"/> sent and got back.</summary>
public sealed record DataExchange(long Size, string Sent, string Received, long ReceivedBytes);

/// <summary>Many sessions at once, each moving a known number of bytes both ways through an echo endpoint.</summary>
public static class DataExchanges
{
    /// <summary>
    /// Opens one session per entry of <paramref name="sizes"/> to <paramref name="device"/>'s <paramref name="endpoint"/>
    /// (an echo), all at once; each sends its size in seeded random messages and a <c>fin</c>, reads until the echo's
    /// <c>fin</c>, and closes normally.
    /// </summary>
    public static Task<DataExchange[]> RunConcurrentlyAsync(DataSessionClient client, string device, string endpoint, IReadOnlyList<int> sizes, CancellationToken cancellationToken) =>
        Task.WhenAll(Enumerable.Range(0, sizes.Count).Select(i => Task.Run(async () =>
        {
            var (_, webSocket) = await client.OpenAsync(device, endpoint, cancellationToken);
            using (webSocket)
            {
                var exchange = await DataFraming.ExchangeAsync(webSocket, seed: i, sizes[i], cancellationToken);
                await webSocket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cancellationToken);
                return new DataExchange(sizes[i], exchange.Sent, exchange.Received, exchange.ReceivedBytes);
            }
        })));
}

/// <summary>The data framing from the client's side, with SHA-256 of each direction.</summary>
public static class DataFraming
{
    /// <summary>
    /// Sends <paramref name="size"/> pseudo-random bytes (seeded, in randomly sized messages) then <c>fin</c>, while
    /// receiving until the peer's <c>fin</c>; returns the SHA-256 of what was sent and of what came back.
    /// </summary>
    public static async Task<(string Sent, string Received, long ReceivedBytes)> ExchangeAsync(WebSocket webSocket, int seed, long size, CancellationToken cancellationToken)
    {
        var sending = SendAsync(webSocket, seed, size, cancellationToken);
        var (received, receivedBytes) = await ReceiveUntilFinAsync(webSocket, cancellationToken);
        return (await sending, received, receivedBytes);
    }

    public static async Task<string> SendAsync(WebSocket webSocket, int seed, long size, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        for (long sent = 0; sent < size;)
        {
            var count = (int)Math.Min(size - sent, random.Next(1, buffer.Length + 1));
            random.NextBytes(buffer.AsSpan(0, count));
            hash.AppendData(buffer, 0, count);
            await webSocket.SendAsync(buffer.AsMemory(0, count), WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
            sent += count;
        }

        await webSocket.SendAsync(DataFrames.Fin, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    /// <summary>Reads binary messages until <c>fin</c>; throws with the close reason if the session closes first.</summary>
    public static async Task<(string Sha256, long Bytes)> ReceiveUntilFinAsync(WebSocket webSocket, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long total = 0;
        while (true)
        {
            var received = await webSocket.ReceiveAsync(buffer, cancellationToken);
            switch (received.MessageType)
            {
                case WebSocketMessageType.Binary:
                    hash.AppendData(buffer, 0, received.Count);
                    total += received.Count;
                    break;
                case WebSocketMessageType.Text when DataFrames.IsFin(buffer.AsSpan(0, received.Count)):
                    return (Convert.ToHexString(hash.GetHashAndReset()), total);
                default:
                    throw new InvalidOperationException($"session closed before fin: {webSocket.CloseStatus} {webSocket.CloseStatusDescription}");
            }
        }
    }

    /// <summary>Reads until the server's close frame and returns its reason (messages before it are discarded).</summary>
    public static async Task<string> ReadCloseReasonAsync(WebSocket webSocket, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var received = await webSocket.ReceiveAsync(buffer, cancellationToken);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return webSocket.CloseStatusDescription ?? "";
            }
        }
    }
}
