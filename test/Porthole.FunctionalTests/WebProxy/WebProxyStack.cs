using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Porthole.Tests.Common.DeviceWeb;
using Porthole.Tunnel.Transport;

namespace Porthole.FunctionalTests.WebProxy;

/// <summary>
/// The web-proxy tests' world: a real server, one gateway agent, and the device web servers on loopback. The API is
/// driven with raw JSON (the CLI's token as Bearer) so the tests state the contract of docs/design/web-proxy.md.
/// </summary>
public class WebProxyStack : IAsyncLifetime
{
    public const string Gateway = "gw-web";

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _openSessions = new(StringComparer.Ordinal);
    private HttpClient? _api;

    public WebProxyStack()
        : this([])
    {
    }

    /// <param name="serverArguments">Settings for the server process, e.g. <c>--Porthole:WebProxy:IdleTimeout=00:00:04</c>.</param>
    protected WebProxyStack(IReadOnlyList<string> serverArguments)
    {
        Stack = new PortholeStack { ServerArguments = serverArguments };
    }

    public PortholeStack Stack { get; }

    public DeviceWebSite Device { get; } = new();

    /// <summary>The gateway's agent process.</summary>
    public ProcessRunner Agent { get; private set; } = null!;

    public HttpClient Api => _api ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        await Task.WhenAll(Stack.InitializeAsync(), Device.InitializeAsync());
        Agent = (await Stack.StartGatewayAsync(Gateway)).Agent;
        var token = JsonDocument.Parse(await File.ReadAllTextAsync(Stack.ConfigPath)).RootElement.GetProperty("token").GetString()!;
        _api = new HttpClient(new ServerTrust(Stack.Fingerprint).CreateHandler()) { BaseAddress = Stack.ServerUrl };
        _api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public async Task DisposeAsync()
    {
        _api?.Dispose();
        await Stack.DisposeAsync();
        await Device.DisposeAsync();
    }

    /// <summary>Adds an endpoint with a fresh name to the gateway and returns its name.</summary>
    /// <param name="extra">More fields of the create request (e.g. <c>rewriteAbsoluteLinks</c>, <c>hostHeader</c>).</param>
    public async Task<string> AddEndpointAsync(string prefix, int port, string protocol = "http", JsonObject? extra = null, string device = Gateway)
    {
        var name = $"{prefix}-{Guid.NewGuid().ToString("N")[..6]}";
        var body = new JsonObject { ["name"] = name, ["host"] = "127.0.0.1", ["port"] = port, ["protocol"] = protocol };
        foreach (var (key, value) in extra ?? [])
        {
            body[key] = value?.DeepClone();
        }

        using var response = await Api.PostAsync($"/api/v1/devices/{device}/endpoints", Json(body));
        Assert.True(response.IsSuccessStatusCode, $"add endpoint: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return name;
    }

    /// <summary>PATCH of an endpoint with raw fields; the raw answer.</summary>
    public async Task<HttpResponseMessage> PatchEndpointAsync(string endpoint, JsonObject fields) =>
        await Api.PatchAsync($"/api/v1/devices/{Gateway}/endpoints/{endpoint}", Json(fields));

    /// <summary>Stores an <c>http-password</c> credential through the CLI (the password on stdin).</summary>
    public async Task SetHttpCredentialAsync(string endpoint, string user = DeviceWebSite.User, string password = DeviceWebSite.Password)
    {
        var result = await Stack.CliAsync(["endpoints", "set-credential", $"{Gateway}/{endpoint}", "--kind", "http-password", "--username", user, "--password-stdin"], stdin: password + "\n");
        Assert.True(result.ExitCode == 0, "set-credential failed: " + result);
    }

    /// <summary><c>POST /api/v1/web-sessions</c>; the raw answer, for tests of refusals. A session it opens is ended by <see cref="EndWebSessionsAsync"/>.</summary>
    public async Task<HttpResponseMessage> RequestWebSessionAsync(string endpoint, string device = Gateway)
    {
        var response = await Api.PostAsync("/api/v1/web-sessions", Json(new JsonObject { ["device"] = device, ["endpoint"] = endpoint }));
        if (response.IsSuccessStatusCode)
        {
            // The body is buffered: the caller can still read it.
            Track(WebSession.Parse(await response.Content.ReadAsStringAsync()).Id);
        }

        return response;
    }

    /// <summary>Remembers a web session opened some other way (e.g. <c>porthole web</c>) so that it is ended after the test.</summary>
    public void Track(string sessionId) => _openSessions[sessionId] = true;

    /// <summary>
    /// Ends every web session the tests opened, so they do not pile up against the per-user limit of open sessions
    /// (web sessions count like any other). Test classes call it when each test ends.
    /// </summary>
    public async Task EndWebSessionsAsync()
    {
        foreach (var id in _openSessions.Keys)
        {
            _openSessions.TryRemove(id, out _);
            using var response = await Api.DeleteAsync($"/api/v1/sessions/{id}");
        }
    }

    /// <summary>Opens a web session and returns its id and the URL to open.</summary>
    public async Task<WebSession> OpenWebSessionAsync(string endpoint, string device = Gateway)
    {
        using var response = await RequestWebSessionAsync(endpoint, device);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST /api/v1/web-sessions: {(int)response.StatusCode} {text}");
        return WebSession.Parse(text);
    }

    /// <summary>Opens a web session and enters it with <paramref name="client"/> (ticket exchanged for the cookie).</summary>
    public async Task<WebSession> EnterWebSessionAsync(WebProxyClient client, string endpoint, string device = Gateway)
    {
        var session = await OpenWebSessionAsync(endpoint, device);
        using var enter = await client.GetAsync(session.Url);
        Assert.True((int)enter.StatusCode is 302 or 303, $"enter: {(int)enter.StatusCode} {await enter.Content.ReadAsStringAsync()}");
        return session;
    }

    /// <summary>The server's last output lines, for failure messages.</summary>
    public string ServerLogTail(int lines = 40) =>
        string.Join('\n', Stack.Server.StandardOutputLines.Concat(Stack.Server.StandardErrorLines).TakeLast(lines));

    public static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    public static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}
