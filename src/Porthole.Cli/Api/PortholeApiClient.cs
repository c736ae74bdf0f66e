using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Porthole.Cli.Configuration;
using Porthole.Protocol.Api;

namespace Porthole.Cli.Api;

/// <summary>
/// Typed calls to the server's REST API. Every failure surfaces as a <see cref="CliException"/> whose message is
/// the problem's <c>detail</c> (or a transport error); a rejected token maps to exit code 3.
/// </summary>
public sealed partial class PortholeApiClient : IDisposable
{
    private readonly HttpMessageHandler _handler;
    private readonly HttpClient _http;
    private readonly string? _token;
    private readonly TrustChoice _trust;

    /// <summary>Creates a client for the server at <paramref name="baseAddress"/> (ending in '/').</summary>
    public PortholeApiClient(Uri baseAddress, string? token, TrustChoice trust)
    {
        try
        {
            _handler = trust.ToServerTrust().CreateHandler();
        }
        catch (CryptographicException ex)
        {
            throw CliException.Usage($"cannot load the CA certificate {trust.CaCert}: {ex.Message}");
        }

        BaseAddress = baseAddress;
        _token = token;
        _trust = trust;

        // REST calls and session WebSockets share one handler, so one trust decision and one connection pool.
        _http = new HttpClient(_handler, disposeHandler: false) { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(2) };
        WebSocketInvoker = new HttpMessageInvoker(_handler, disposeHandler: false);
    }

    /// <summary>The server's base address.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The API token, if this client has one.</summary>
    public string? Token => _token;

    /// <summary>The trust decision, for describing connection failures.</summary>
    public TrustChoice Trust => _trust;

    /// <summary>
    /// An invoker for <see cref="System.Net.WebSockets.ClientWebSocket"/> connects. Not the <see cref="HttpClient"/>:
    /// its timeout and response buffering do not suit an upgraded connection.
    /// </summary>
    public HttpMessageInvoker WebSocketInvoker { get; }

    /// <summary><c>POST /api/v1/auth/login</c>.</summary>
    public Task<LoginResponse> LoginAsync(LoginRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "api/v1/auth/login", JsonContent.Create(request, ApiJsonContext.Default.LoginRequest), ApiJsonContext.Default.LoginResponse, cancellationToken);

    /// <summary><c>POST /api/v1/auth/logout</c>: revokes this client's token.</summary>
    public Task LogoutAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "api/v1/auth/logout", null, cancellationToken);

    /// <summary><c>GET /api/v1/devices</c>.</summary>
    public Task<List<DeviceDto>> ListDevicesAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "api/v1/devices", null, ApiJsonContext.Default.ListDeviceDto, cancellationToken);

    /// <summary><c>GET /api/v1/devices/{device}</c>.</summary>
    public Task<DeviceDto> GetDeviceAsync(string device, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, DevicePath(device), null, ApiJsonContext.Default.DeviceDto, cancellationToken);

    /// <summary><c>POST /api/v1/devices</c>.</summary>
    public Task<CreateDeviceResponse> CreateDeviceAsync(CreateDeviceRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "api/v1/devices", JsonContent.Create(request, ApiJsonContext.Default.CreateDeviceRequest), ApiJsonContext.Default.CreateDeviceResponse, cancellationToken);

    /// <summary><c>PATCH /api/v1/devices/{device}</c>: moves, retags or renames a device.</summary>
    public Task<DeviceDto> UpdateDeviceAsync(string device, UpdateDeviceRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Patch, DevicePath(device), JsonContent.Create(request, ApiJsonContext.Default.UpdateDeviceRequest), ApiJsonContext.Default.DeviceDto, cancellationToken);

    /// <summary><c>DELETE /api/v1/devices/{device}</c>.</summary>
    public Task RemoveDeviceAsync(string device, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, DevicePath(device), null, cancellationToken);

    /// <summary><c>POST /api/v1/devices/{device}/enrolment-token</c>.</summary>
    public Task<CreateDeviceResponse> ReissueEnrolmentAsync(string device, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, DevicePath(device) + "/enrolment-token", null, ApiJsonContext.Default.CreateDeviceResponse, cancellationToken);

    /// <summary><c>GET /api/v1/devices/{device}/endpoints</c>.</summary>
    public Task<List<EndpointDto>> ListEndpointsAsync(string device, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, DevicePath(device) + "/endpoints", null, ApiJsonContext.Default.ListEndpointDto, cancellationToken);

    /// <summary><c>GET /api/v1/devices/{device}/endpoints/{endpoint}</c>.</summary>
    public Task<EndpointDto> GetEndpointAsync(string device, string endpoint, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, EndpointPath(device, endpoint), null, ApiJsonContext.Default.EndpointDto, cancellationToken);

    /// <summary><c>POST /api/v1/devices/{device}/endpoints</c>.</summary>
    public Task<EndpointDto> CreateEndpointAsync(string device, CreateEndpointRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, DevicePath(device) + "/endpoints", JsonContent.Create(request, ApiJsonContext.Default.CreateEndpointRequest), ApiJsonContext.Default.EndpointDto, cancellationToken);

    /// <summary><c>PATCH /api/v1/devices/{device}/endpoints/{endpoint}</c>.</summary>
    public Task<EndpointDto> UpdateEndpointAsync(string device, string endpoint, UpdateEndpointRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Patch, EndpointPath(device, endpoint), JsonContent.Create(request, ApiJsonContext.Default.UpdateEndpointRequest), ApiJsonContext.Default.EndpointDto, cancellationToken);

    /// <summary><c>DELETE /api/v1/devices/{device}/endpoints/{endpoint}</c>.</summary>
    public Task RemoveEndpointAsync(string device, string endpoint, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, EndpointPath(device, endpoint), null, cancellationToken);

    /// <summary><c>PUT /api/v1/devices/{device}/endpoints/{endpoint}/credential</c>.</summary>
    public Task<EndpointDto> SetCredentialAsync(string device, string endpoint, SetCredentialRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, EndpointPath(device, endpoint) + "/credential", JsonContent.Create(request, ApiJsonContext.Default.SetCredentialRequest), ApiJsonContext.Default.EndpointDto, cancellationToken);

    /// <summary><c>DELETE /api/v1/devices/{device}/endpoints/{endpoint}/credential</c>.</summary>
    public Task ClearCredentialAsync(string device, string endpoint, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, EndpointPath(device, endpoint) + "/credential", null, cancellationToken);

    /// <summary><c>DELETE /api/v1/devices/{device}/endpoints/{endpoint}/ssh-host-key</c>.</summary>
    public Task ForgetSshHostKeyAsync(string device, string endpoint, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, EndpointPath(device, endpoint) + "/ssh-host-key", null, cancellationToken);

    /// <summary><c>GET /api/v1/sessions</c>: your sessions, and others' where you hold sessions:manage.</summary>
    public Task<List<ActiveSessionDto>> ListSessionsAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "api/v1/sessions", null, ApiJsonContext.Default.ListActiveSessionDto, cancellationToken);

    /// <summary><c>DELETE /api/v1/sessions/{id}</c>.</summary>
    public Task TerminateSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, "api/v1/sessions/" + Uri.EscapeDataString(sessionId), null, cancellationToken);

    /// <summary><c>POST /api/v1/web-sessions</c>: answers once the device's web server is reachable through the agent.</summary>
    public Task<WebSessionResponse> CreateWebSessionAsync(CreateWebSessionRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "api/v1/web-sessions", JsonContent.Create(request, ApiJsonContext.Default.CreateWebSessionRequest), ApiJsonContext.Default.WebSessionResponse, cancellationToken);

    /// <summary><c>GET /api/v1/web-sessions/{id}/requests</c>: the request log of a web session.</summary>
    public Task<List<WebRequestDto>> ListWebRequestsAsync(string sessionId, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, $"api/v1/web-sessions/{Uri.EscapeDataString(sessionId)}/requests", null, ApiJsonContext.Default.ListWebRequestDto, cancellationToken);

    /// <inheritdoc />
    public void Dispose()
    {
        WebSocketInvoker.Dispose();
        _http.Dispose();
        _handler.Dispose();
    }

    private static string DevicePath(string device) => "api/v1/devices/" + Uri.EscapeDataString(device);

    private static string EndpointPath(string device, string endpoint) => DevicePath(device) + "/endpoints/" + Uri.EscapeDataString(endpoint);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? content, JsonTypeInfo<T> responseType, CancellationToken cancellationToken)
    {
        using var response = await SendCoreAsync(method, path, content, cancellationToken);
        try
        {
            return await response.Content.ReadFromJsonAsync(responseType, cancellationToken)
                ?? throw new JsonException("empty body");
        }
        catch (JsonException ex)
        {
            throw new CliException($"unexpected answer from {Describe()} to {method} /{path}: {ex.Message}", ex);
        }
        catch (HttpRequestException ex)
        {
            throw ConnectionErrors.Describe(BaseAddress, _trust, ex);
        }
    }

    private async Task SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var response = await SendCoreAsync(method, path, content, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendCoreAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (_token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        }

        HttpResponseMessage response;
        var started = TimeProvider.System.GetTimestamp();
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw ConnectionErrors.Describe(BaseAddress, _trust, ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // .NET reports its connect timeout as a cancelled request too; the time taken tells the two apart.
            throw new CliException(TimeProvider.System.GetElapsedTime(started) < _http.Timeout
                ? $"{Describe()} did not complete a connection (TCP and TLS) within {Porthole.Tunnel.Transport.ServerTrust.ConnectTimeout.TotalSeconds:0} s"
                : $"{Describe()} did not answer within {_http.Timeout.TotalSeconds:0} s", ex);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await ToExceptionAsync(response, cancellationToken);
        }
    }

    private async Task<CliException> ToExceptionAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string? body = null;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            // The status line is all we can report.
        }

        return ToException(response.StatusCode, response.ReasonPhrase, body);
    }

    /// <summary>The error a refusal stands for: its problem details' detail (and code), else its status line.</summary>
    public CliException ToException(HttpStatusCode status, string? reasonPhrase, string? body)
    {
        ProblemBody? problem = null;
        try
        {
            if (!string.IsNullOrEmpty(body))
            {
                problem = JsonSerializer.Deserialize(body, ApiJsonContext.Default.ProblemBody);
            }
        }
        catch (JsonException)
        {
            // Not a problem-details body (a proxy's error page, say): the status line is all we can report.
        }

        var message = problem?.Detail ?? problem?.Title ?? $"{Describe()} answered {(int)status} {reasonPhrase ?? status.ToString()}";
        if (status == HttpStatusCode.Unauthorized && _token is not null)
        {
            return new CliException(ExitCodes.NotLoggedIn, "the server rejected the token: " + message) { ProblemCode = problem?.Code };
        }

        return new CliException(message) { ProblemCode = problem?.Code };
    }

    private string Describe() => BaseAddress.ToString().TrimEnd('/');
}
