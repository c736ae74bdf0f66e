using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Porthole.FunctionalTests.WebProxy;

/// <summary>
/// Getting into a web session and out of it (docs/design/web-proxy.md, "Ticket → cookie", "Isolation",
/// "Lifetime"): a single-use, short-lived ticket becomes a host-only cookie for the session's own origin; nothing of
/// the console's reaches the device; ending the session closes its origin.
/// </summary>
[Collection(WebProxyCollection.Name)]
public sealed partial class WebSessionEntryTests(WebProxyStack world) : IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => world.EndWebSessionsAsync();

    [Fact]
    public async Task CreateWebSession_AnswersAnEnterUrl_OnAPerSessionHost()
    {
        var endpoint = await world.AddEndpointAsync("entry", world.Device.HttpPort);

        var session = await world.OpenWebSessionAsync(endpoint);

        var url = new Uri(session.Url);
        Assert.Equal("https", url.Scheme);
        Assert.Matches(SessionHost(), url.Host);
        Assert.Equal(world.Stack.ServerUrl.Port, url.Port);
        Assert.Equal("/.porthole/enter", url.AbsolutePath);
        Assert.StartsWith("?ticket=", url.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateWebSession_ForANonWebEndpoint_IsRefused()
    {
        var endpoint = await world.AddEndpointAsync("raw", world.Device.HttpPort, "tcp");

        using var response = await world.RequestWebSessionAsync(endpoint);

        Assert.True((int)response.StatusCode is >= 400 and < 500, $"a tcp endpoint got {(int)response.StatusCode}");
    }

    [Fact]
    public async Task CreateWebSession_WithoutRemoteAccessConnect_IsForbidden()
    {
        var endpoint = await world.AddEndpointAsync("denied", world.Device.HttpPort);
        var created = await world.Stack.CliOkAsync("tokens", "create", "read-only-" + endpoint, "--scope", "devices:read", "--scope", "remote-access:read", "--json");
        using var readOnly = new HttpClient(new Porthole.Tunnel.Transport.ServerTrust(world.Stack.Fingerprint).CreateHandler()) { BaseAddress = world.Stack.ServerUrl };
        readOnly.DefaultRequestHeaders.Authorization = new("Bearer", JsonDocument.Parse(created).RootElement.GetProperty("token").GetString());

        using var response = await readOnly.PostAsync("/api/v1/web-sessions", WebProxyStack.Json(new System.Text.Json.Nodes.JsonObject { ["device"] = WebProxyStack.Gateway, ["endpoint"] = endpoint }));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task CreateWebSession_ToAClosedPort_IsRefusedAtOnce_WithTheReason()
    {
        var endpoint = await world.AddEndpointAsync("closed", FreePort.Get());

        using var response = await world.RequestWebSessionAsync(endpoint);

        var body = await response.Content.ReadAsStringAsync();
        Assert.False(response.IsSuccessStatusCode, $"a closed port got {(int)response.StatusCode}");
        Assert.Contains("refused", body, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task GatewayGoingOffline_MidSession_AnswersAnErrorPage_AndPortholeWebSaysOffline()
    {
        var device = "gw-web-offline-" + Guid.NewGuid().ToString("N")[..6];
        var gateway = await world.Stack.StartGatewayAsync(device);
        var endpoint = await world.AddEndpointAsync("offline", world.Device.Http10Port, device: device);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint, device);
        using (var online = await browser.Http.GetAsync(session.At("/")))
        {
            Assert.Equal(HttpStatusCode.OK, online.StatusCode);
        }

        await gateway.DisposeAsync();
        await world.Stack.WaitForOnlineAsync(device, expected: false);

        // HTTP/1.0: every request needs a new connection through the agent, which is gone.
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var offline = await browser.Http.GetAsync(session.At("/page1.html"), cancel.Token);
        var page = await offline.Content.ReadAsStringAsync();
        Assert.True((int)offline.StatusCode is >= 400, $"an offline gateway gave {(int)offline.StatusCode}: {page}");
        Assert.Contains("offline", page, StringComparison.OrdinalIgnoreCase);

        var cli = await world.Stack.CliAsync(["web", $"{device}/{endpoint}"]);
        Assert.Equal(1, cli.ExitCode);
        Assert.Contains("offline", cli.StandardError, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task UnknownSessionHost_IsNeitherTheConsoleNorADevice()
    {
        using var browser = new WebProxyClient(world.Stack);
        var unknown = new Uri($"https://{new string('a', 26)}.localhost:{world.Stack.ServerUrl.Port}/");

        using var response = await browser.Http.GetAsync(unknown);

        Assert.True((int)response.StatusCode is 401 or 404 or 410, $"an unknown session host got {(int)response.StatusCode}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("Test device", body, StringComparison.Ordinal);
        Assert.DoesNotContain("/login", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enter_ExchangesTheTicketForAHostOnlyCookie_AndRedirectsToTheDevicesRoot()
    {
        var endpoint = await world.AddEndpointAsync("entry", world.Device.HttpPort);
        var session = await world.OpenWebSessionAsync(endpoint);
        using var browser = new WebProxyClient(world.Stack);

        using var enter = await browser.GetAsync(session.Url);

        Assert.True((int)enter.StatusCode is 302 or 303, $"{(int)enter.StatusCode}");
        Assert.Equal(session.At("/"), new Uri(session.Origin, enter.Headers.Location!));
        var setCookie = Assert.Single(enter.Headers.GetValues("Set-Cookie"), c => c.StartsWith("__Host-porthole-web=", StringComparison.Ordinal));
        var attributes = setCookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).Select(a => a.ToLowerInvariant()).ToList();
        Assert.Contains("secure", attributes);
        Assert.Contains("httponly", attributes);
        Assert.Contains("samesite=lax", attributes);
        Assert.Contains("path=/", attributes);
        Assert.DoesNotContain(attributes, a => a.StartsWith("domain", StringComparison.Ordinal));

        using var root = await browser.Http.GetAsync(session.At("/"));
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.Contains("Test device", await root.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Neither the ticket nor the cookie's secret is ever logged.
        var ticket = new Uri(session.Url).Query["?ticket=".Length..];
        var secret = browser.Cookies.GetCookies(session.Origin)["__Host-porthole-web"]!.Value;
        Assert.DoesNotContain(ticket, world.Stack.Server.CapturedOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, world.Stack.Server.CapturedOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ticket_IsSingleUse()
    {
        var endpoint = await world.AddEndpointAsync("entry", world.Device.HttpPort);
        var session = await world.OpenWebSessionAsync(endpoint);
        using var first = new WebProxyClient(world.Stack);
        using var second = new WebProxyClient(world.Stack);
        using (var entered = await first.GetAsync(session.Url))
        {
            Assert.True((int)entered.StatusCode is 302 or 303, $"{(int)entered.StatusCode}");
        }

        using var replay = await second.GetAsync(session.Url);

        // The design promises 401 for requests without the cookie; a refused ticket may say 403 (used or forged).
        Assert.True(replay.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"a used ticket got {(int)replay.StatusCode}");
        Assert.False(replay.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("__Host-porthole-web=", StringComparison.Ordinal)), "a used ticket got a cookie");
        Assert.Empty(second.Cookies.GetCookies(session.Origin));
        using var root = await second.Http.GetAsync(session.At("/"));
        Assert.Equal(HttpStatusCode.Unauthorized, root.StatusCode);
    }

    [Fact]
    public async Task Ticket_ExpiresAfterSixtySeconds()
    {
        var endpoint = await world.AddEndpointAsync("entry", world.Device.HttpPort);
        var session = await world.OpenWebSessionAsync(endpoint);
        using var browser = new WebProxyClient(world.Stack);

        await Task.Delay(TimeSpan.FromSeconds(62));
        using var late = await browser.GetAsync(session.Url);

        Assert.True(late.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"an expired ticket got {(int)late.StatusCode}");
        Assert.Empty(browser.Cookies.GetCookies(session.Origin));
    }

    [Fact]
    public async Task WithoutTheCookie_TheSessionHostAnswers401_AndSaysToOpenTheDeviceFromTheConsoleAgain()
    {
        var endpoint = await world.AddEndpointAsync("entry", world.Device.HttpPort);
        var session = await world.OpenWebSessionAsync(endpoint);
        using var stranger = new WebProxyClient(world.Stack);
        var deviceRequestsBefore = world.Device.Nginx.AccessLog().Count;

        using var response = await stranger.Http.GetAsync(session.At("/"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("console", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(deviceRequestsBefore, world.Device.Nginx.AccessLog().Count);
    }

    [Fact]
    public async Task CookieOfOneSession_DoesNotOpenAnother()
    {
        var endpoint = await world.AddEndpointAsync("entry", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var first = await world.EnterWebSessionAsync(browser, endpoint);
        var second = await world.OpenWebSessionAsync(endpoint);
        var cookie = browser.Cookies.GetCookies(first.Origin)["__Host-porthole-web"]!;

        using var request = new HttpRequestMessage(HttpMethod.Get, second.At("/"));
        request.Headers.Add("Cookie", $"__Host-porthole-web={cookie.Value}");
        using var response = await browser.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ConsoleApi_DoesNotAnswerOnASessionHost()
    {
        var endpoint = await world.AddEndpointAsync("entry", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        using var request = new HttpRequestMessage(HttpMethod.Get, session.At("/api/v1/devices"));
        request.Headers.Authorization = world.Api.DefaultRequestHeaders.Authorization;

        using var response = await browser.Http.SendAsync(request);

        // The request went to the device (nginx has no such page), not to the console's API.
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain(WebProxyStack.Gateway, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PortholeCookiesAndTokens_AreNeverForwardedToTheDevice()
    {
        var endpoint = await world.AddEndpointAsync("entry", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        var token = world.Api.DefaultRequestHeaders.Authorization!.Parameter!;
        browser.Cookies.Add(session.Origin, new Cookie("porthole_session", "console-cookie-value"));
        browser.Cookies.Add(session.Origin, new Cookie("device_pref", "kept"));
        using var request = new HttpRequestMessage(HttpMethod.Get, session.At("/headers"));
        request.Headers.Authorization = new("Bearer", token);

        using var response = await browser.Http.SendAsync(request);

        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var headers = JsonDocument.Parse(body).RootElement.GetProperty("headers");
        Assert.DoesNotContain(token, body, StringComparison.Ordinal);
        Assert.DoesNotContain("console-cookie-value", body, StringComparison.Ordinal);
        Assert.DoesNotContain("porthole-web", body, StringComparison.Ordinal);
        Assert.Contains("device_pref=kept", headers.GetProperty("cookie").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteSession_EndsTheWebSession_AndItsHostSaysSo()
    {
        var endpoint = await world.AddEndpointAsync("ending", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        using (var before = await browser.Http.GetAsync(session.At("/")))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        var listed = await world.Api.GetStringAsync("/api/v1/sessions");
        var entry = JsonDocument.Parse(listed).RootElement.EnumerateArray().SingleOrDefault(s => s.GetProperty("id").GetString() == session.Id);
        Assert.True(entry.ValueKind == JsonValueKind.Object, $"web session {session.Id} not in GET /api/v1/sessions: {listed}");
        Assert.Equal("web", entry.GetProperty("action").GetString());
        Assert.Equal(endpoint, entry.GetProperty("endpoint").GetString());

        using (var deleted = await world.Api.DeleteAsync($"/api/v1/sessions/{session.Id}"))
        {
            Assert.True(deleted.IsSuccessStatusCode, $"DELETE: {(int)deleted.StatusCode} {await deleted.Content.ReadAsStringAsync()}");
        }

        using var after = await browser.Http.GetAsync(session.At("/"));
        Assert.False(after.IsSuccessStatusCode, $"still {(int)after.StatusCode} after the session ended");
        Assert.Contains("ended", await after.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);

        // The audit log names the web session when it opens, and counts its requests when it closes.
        var opened = await world.Stack.CliOkAsync("audit", "list", "--device", WebProxyStack.Gateway, "--action", "session.open", "--json");
        Assert.Contains(session.Id, opened, StringComparison.Ordinal);
        var closed = await world.Stack.CliOkAsync("audit", "list", "--device", WebProxyStack.Gateway, "--action", "session.close", "--json");
        var line = JsonDocument.Parse(closed).RootElement.GetProperty("entries").EnumerateArray().Select(e => e.ToString()).FirstOrDefault(e => e.Contains(session.Id, StringComparison.Ordinal));
        Assert.True(line is not null, $"no session.close line names {session.Id}: {closed}");
        Assert.Contains("request", line, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task RequestLog_ListsMethodPathAndStatus_WithoutQueryStringsOrCookies()
    {
        var endpoint = await world.AddEndpointAsync("logged", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        browser.Cookies.Add(session.Origin, new Cookie("device_pref", "cookie-secret-4711"));
        (await browser.Http.GetAsync(session.At("/headers?token=query-secret-0815"))).Dispose();
        (await browser.Http.GetAsync(session.At("/no-such-page"))).Dispose();
        (await browser.Http.PostAsync(session.At("/upload"), new StringContent("firmware"))).Dispose();

        JsonElement log = default;
        string raw = "";
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            using var response = await world.Api.GetAsync($"/api/v1/web-sessions/{session.Id}/requests");
            raw = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"GET requests: {(int)response.StatusCode} {raw}");
            log = Items(JsonDocument.Parse(raw).RootElement);
            if (log.GetArrayLength() >= 3 && raw.Contains("/upload", StringComparison.Ordinal))
            {
                break;
            }

            await Task.Delay(300);
        }

        var entries = log.EnumerateArray().Select(e => (Method: e.GetProperty("method").GetString(), Path: e.GetProperty("path").GetString(), Status: e.GetProperty("status").GetInt32())).ToList();
        Assert.Contains(("GET", "/headers", 200), entries);
        Assert.Contains(("GET", "/no-such-page", 404), entries);
        Assert.Contains(("POST", "/upload", 200), entries);
        Assert.DoesNotContain("query-secret-0815", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("token=", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("cookie-secret-4711", raw, StringComparison.Ordinal);
        Assert.DoesNotContain(browser.Cookies.GetCookies(session.Origin)["__Host-porthole-web"]!.Value, raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestLog_OfAnotherUsersSession_IsHiddenWithoutAuditRead()
    {
        var endpoint = await world.AddEndpointAsync("private", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var adminSession = await world.EnterWebSessionAsync(browser, endpoint);
        (await browser.Http.GetAsync(adminSession.At("/"))).Dispose();
        using var technician = await LogInAsAsync("tech-" + endpoint[^6..], "Technician");

        using var others = await technician.GetAsync($"/api/v1/web-sessions/{adminSession.Id}/requests");
        Assert.True(others.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound, $"a technician read the admin's request log: {(int)others.StatusCode}");

        // Their own web session's log they can read.
        using var created = await technician.PostAsync("/api/v1/web-sessions", WebProxyStack.Json(new System.Text.Json.Nodes.JsonObject { ["device"] = WebProxyStack.Gateway, ["endpoint"] = endpoint }));
        var own = WebSession.Parse(await created.Content.ReadAsStringAsync());
        using var ownLog = await technician.GetAsync($"/api/v1/web-sessions/{own.Id}/requests");
        Assert.Equal(HttpStatusCode.OK, ownLog.StatusCode);
    }

    /// <summary>A new user with <paramref name="role"/>, logged in through the CLI with a config of its own; an API client with its token.</summary>
    private async Task<HttpClient> LogInAsAsync(string user, string role)
    {
        const string password = "web-proxy-tests-password";
        var added = await world.Stack.CliAsync(["users", "add", user, "--role", role, "--password-stdin"], stdin: password + "\n");
        Assert.True(added.ExitCode == 0, "users add: " + added);
        var config = Path.Combine(Path.GetDirectoryName(world.Stack.ConfigPath)!, user + ".json");
        var environment = new Dictionary<string, string?>(world.Stack.CliEnvironment) { ["PORTHOLE_CONFIG"] = config };
        var login = await world.Stack.CliAsync(
            ["login", "--server", world.Stack.ServerUrl.ToString(), "--username", user, "--password-stdin", "--fingerprint", world.Stack.Fingerprint], password + "\n", environment);
        Assert.True(login.ExitCode == 0, "login: " + login);
        var client = new HttpClient(new Porthole.Tunnel.Transport.ServerTrust(world.Stack.Fingerprint).CreateHandler()) { BaseAddress = world.Stack.ServerUrl };
        client.DefaultRequestHeaders.Authorization = new("Bearer", JsonDocument.Parse(await File.ReadAllTextAsync(config)).RootElement.GetProperty("token").GetString());
        return client;
    }

    [Fact]
    public async Task CliWeb_PrintsAnEnterUrl_ThatWorks()
    {
        var endpoint = await world.AddEndpointAsync("cli", world.Device.HttpPort);

        var output = await world.Stack.CliOkAsync("web", $"{WebProxyStack.Gateway}/{endpoint}");

        var url = EnterUrl().Match(output);
        Assert.True(url.Success, "no enter URL in: " + output);
        using var browser = new WebProxyClient(world.Stack);
        using var enter = await browser.GetAsync(url.Value);
        Assert.True((int)enter.StatusCode is 302 or 303, $"{(int)enter.StatusCode}");
        var origin = new Uri(url.Value);
        world.Track(origin.Host.Split('.')[0]);
        using (var root = await browser.Http.GetAsync(new Uri(origin, "/")))
        {
            Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        }

        (await browser.Http.GetAsync(new Uri(origin, "/headers?secret=cli-query-secret"))).Dispose();

        // 'porthole web log ID' shows the requests (written in batches: wait for them), without query strings.
        var id = origin.Host.Split('.')[0];
        var deadline = DateTime.UtcNow.AddSeconds(20);
        string log;
        do
        {
            log = await world.Stack.CliOkAsync("web", "log", id);
        }
        while (!log.Contains("/headers", StringComparison.Ordinal) && DateTime.UtcNow < deadline && await Pause());

        Assert.Contains("/headers", log, StringComparison.Ordinal);
        Assert.DoesNotContain("cli-query-secret", log, StringComparison.Ordinal);
    }

    private static async Task<bool> Pause()
    {
        await Task.Delay(300);
        return true;
    }

    /// <summary>The list itself, or the array inside a paged answer.</summary>
    private static JsonElement Items(JsonElement root)
    {
        if (root.ValueKind == JsonValueKind.Array)
        {
            return root;
        }

        foreach (var name in new[] { "items", "requests", "entries" })
        {
            if (root.TryGetProperty(name, out var items) && items.ValueKind == JsonValueKind.Array)
            {
                return items;
            }
        }

        throw new InvalidOperationException("no list in " + root);
    }

    [GeneratedRegex("^[a-z2-7]{26}\\.localhost$")]
    private static partial Regex SessionHost();

    [GeneratedRegex("https://[a-z2-7]{26}\\.localhost:[0-9]+/\\.porthole/enter\\?ticket=[^\\s\"]+")]
    private static partial Regex EnterUrl();
}
