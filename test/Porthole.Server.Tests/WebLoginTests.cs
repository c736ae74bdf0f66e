using System.Net;
using System.Text.RegularExpressions;
using Porthole.Protocol.Api;
using Porthole.Server.Tests.Support;

namespace Porthole.Server.Tests;

/// <summary>Browser sessions over HTTPS: the cookie's attributes, CSRF on forms and on cookie-authenticated API calls, logout.</summary>
public sealed partial class WebLoginTests : IAsyncLifetime
{
    private InProcessServer _server = null!;
    private readonly CookieContainer _cookies = new();
    private HttpClient _browser = null!;

    public async Task InitializeAsync()
    {
        _server = await InProcessServer.StartAsync(null, "--urls", "https://127.0.0.1:0");

        // Loopback test server with the certificate it generated itself.
        _browser = new HttpClient(new HttpClientHandler
        {
            CookieContainer = _cookies,
            AllowAutoRedirect = false,
            ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
        })
        { BaseAddress = _server.BaseAddress };
    }

    public async Task DisposeAsync()
    {
        _browser.Dispose();
        await _server.DisposeAsync();
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    private async Task<string> FormTokenAsync(string path)
    {
        var html = await _browser.GetStringAsync(path);
        return AntiforgeryField().Match(html).Groups[1].Value;
    }

    private async Task<HttpResponseMessage> LogInAsync(string? token, string password = InProcessServer.AdminPassword)
    {
        var fields = new Dictionary<string, string> { ["username"] = "admin", ["password"] = password, ["returnUrl"] = "/" };
        if (token is not null)
        {
            fields["__RequestVerificationToken"] = token;
        }

        return await _browser.PostAsync("/login", new FormUrlEncodedContent(fields));
    }

    [Fact]
    public async Task Login_SetsASecureHttpOnlyStrictCookie_AndTheSessionWorks()
    {
        using var response = await LogInAsync(await FormTokenAsync("/login"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("porthole_session=", StringComparison.Ordinal)).ToLowerInvariant();
        Assert.Contains("secure", cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.Ordinal);
        Assert.Contains("samesite=strict", cookie, StringComparison.Ordinal);
        var home = await _browser.GetStringAsync("/");
        Assert.Contains("Signed in as <strong>admin</strong>", home, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await _browser.GetAsync("/api/v1/devices")).StatusCode);
    }

    [Fact]
    public async Task LoginForm_WithoutAntiforgeryToken_IsRejected()
    {
        await _browser.GetAsync("/login");

        using var response = await LogInAsync(token: null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(_cookies.GetAllCookies(), c => c.Name == "porthole_session");
    }

    [Fact]
    public async Task WrongPassword_ShowsTheErrorAndIsAudited()
    {
        using var response = await LogInAsync(await FormTokenAsync("/login"), "not-the-password");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("wrong username or password", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var admin = _server.Client(await _server.AdminTokenAsync());
        var audit = Api.Read<AuditPage>(await admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/audit?action=auth.web-login&outcome=failure"));
        Assert.Single(audit.Entries);
    }

    [Fact]
    public async Task CookieAuthenticatedApiWrites_NeedTheCsrfHeader()
    {
        using (await LogInAsync(await FormTokenAsync("/login")))
        {
        }

        var body = JsonBody(new CreateDeviceRequest("from-browser"));
        using var withoutHeader = await _browser.PostAsync("/api/v1/devices", body);
        Assert.Equal(HttpStatusCode.BadRequest, withoutHeader.StatusCode);
        Assert.Contains("CSRF", await withoutHeader.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/devices") { Content = JsonBody(new CreateDeviceRequest("from-browser")) };
        request.Headers.Add("RequestVerificationToken", await FormTokenAsync("/"));
        using var withHeader = await _browser.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, withHeader.StatusCode);
    }

    [Fact]
    public async Task Logout_EndsTheSessionAndRevokesItsToken()
    {
        using (await LogInAsync(await FormTokenAsync("/login")))
        {
        }

        var sessionCookie = _cookies.GetAllCookies().Single(c => c.Name == "porthole_session").Value;
        var token = await FormTokenAsync("/");
        using var logout = await _browser.PostAsync("/logout", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);

        // Even a copy of the old cookie is dead: its token was revoked.
        using var replay = new HttpRequestMessage(HttpMethod.Get, "/api/v1/devices");
        replay.Headers.Add("Cookie", "porthole_session=" + sessionCookie);
        using var replayed = await new HttpClient(new HttpClientHandler { UseCookies = false, ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator })
        { BaseAddress = _server.BaseAddress }.SendAsync(replay);
        Assert.Equal(HttpStatusCode.Unauthorized, replayed.StatusCode);
    }

    [Fact]
    public async Task Pages_CarryACspThatForbidsForeignScriptsAndFraming()
    {
        using var response = await _browser.GetAsync("/login");

        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
    }

    [Fact]
    public async Task Pages_WithoutSession_RedirectToLogin()
    {
        using var response = await _browser.GetAsync("/");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/login", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    private static StringContent JsonBody(CreateDeviceRequest request) =>
        new(System.Text.Json.JsonSerializer.Serialize(request, ApiJsonContext.Default.CreateDeviceRequest), System.Text.Encoding.UTF8, "application/json");
}
