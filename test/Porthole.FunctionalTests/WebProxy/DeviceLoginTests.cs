using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Porthole.Tests.Common.DeviceWeb;

namespace Porthole.FunctionalTests.WebProxy;

/// <summary>
/// A device's own login form through the proxy (docs/design/web-proxy.md, "Request rewriting" and "Response
/// rewriting"): the device gets the Host, Origin and Referer it expects; its absolute redirect and its
/// <c>Domain=</c> cookie are turned into ones for the session origin.
/// </summary>
[Collection(WebProxyCollection.Name)]
public sealed class DeviceLoginTests(WebProxyStack world) : IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => world.EndWebSessionsAsync();

    [Fact]
    public async Task LoginForm_SetsTheDeviceCookieForTheSessionHost_AndItsAbsoluteRedirectLandsOnTheSessionOrigin()
    {
        var endpoint = await world.AddEndpointAsync("login", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        // Not logged in yet: the device's absolute redirect to its own /login comes back as the session's.
        using (var home = await browser.Http.GetAsync(session.At("/home")))
        {
            Assert.Equal(HttpStatusCode.Found, home.StatusCode);
            Assert.Equal(session.At("/login"), new Uri(session.Origin, home.Headers.Location!));
        }

        var form = await browser.Http.GetStringAsync(session.At("/login"));
        Assert.Contains("action=\"/login\"", form, StringComparison.Ordinal);

        // As a browser posts it: with the session origin as Origin and Referer (the device only accepts its own).
        using var post = new HttpRequestMessage(HttpMethod.Post, session.At("/login"))
        {
            Content = new FormUrlEncodedContent([new("username", DeviceWebSite.User), new("password", DeviceWebSite.Password)]),
        };
        post.Headers.Add("Origin", session.Origin.GetLeftPart(UriPartial.Authority));
        post.Headers.Referrer = session.At("/login");
        using var login = await browser.Http.SendAsync(post);

        Assert.True(login.StatusCode == HttpStatusCode.Found, $"login: {(int)login.StatusCode} {await login.Content.ReadAsStringAsync()}");
        Assert.Equal(session.At("/home").ToString(), login.Headers.Location?.ToString());
        var setCookie = Assert.Single(login.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("devsession=", setCookie, StringComparison.Ordinal);
        Assert.DoesNotContain("domain", setCookie, StringComparison.OrdinalIgnoreCase);
        var stored = browser.Cookies.GetCookies(session.Origin)[DeviceBackend.SessionCookie];
        Assert.NotNull(stored);
        Assert.Equal(session.Origin.Host, stored.Domain);

        using (var welcome = await browser.Http.GetAsync(session.At("/home")))
        {
            Assert.Equal(HttpStatusCode.OK, welcome.StatusCode);
            Assert.Contains("Welcome", await welcome.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Still logged in on the next page and the one after.
        Assert.Contains("Settings of the device", await browser.Http.GetStringAsync(session.At("/settings")), StringComparison.Ordinal);
        Assert.Contains("Welcome", await browser.Http.GetStringAsync(session.At("/home")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeviceCookies_LiveInTheBrowserOnly_TheProxyKeepsNone()
    {
        var endpoint = await world.AddEndpointAsync("jar", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        using var post = new HttpRequestMessage(HttpMethod.Post, session.At("/login"))
        {
            Content = new FormUrlEncodedContent([new("username", DeviceWebSite.User), new("password", DeviceWebSite.Password)]),
        };
        (await browser.Http.SendAsync(post)).Dispose();
        Assert.Contains("Welcome", await browser.Http.GetStringAsync(session.At("/home")), StringComparison.Ordinal);

        // The browser forgets the device's cookie (logout, private window): the device must see no cookie either.
        browser.Cookies.GetCookies(session.Origin)[DeviceBackend.SessionCookie]!.Expired = true;
        using var home = await browser.Http.GetAsync(session.At("/home"));

        Assert.Equal(HttpStatusCode.Found, home.StatusCode);
        Assert.Equal(session.At("/login"), new Uri(session.Origin, home.Headers.Location!));
        var seen = JsonDocument.Parse(await browser.Http.GetStringAsync(session.At("/headers"))).RootElement.GetProperty("headers");
        Assert.False(seen.TryGetProperty("cookie", out var cookie) && cookie.GetString()!.Contains(DeviceBackend.SessionCookie, StringComparison.Ordinal), "the proxy sent a device cookie the browser no longer has");
    }

    [Fact]
    public async Task Device_SeesItsOwnHost_OriginAndReferer_AndNoForwardedHeaders()
    {
        var endpoint = await world.AddEndpointAsync("headers", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        using var request = new HttpRequestMessage(HttpMethod.Post, session.At("/headers?q=1")) { Content = new StringContent("x") };
        request.Headers.Add("Origin", session.Origin.GetLeftPart(UriPartial.Authority));
        request.Headers.Referrer = session.At("/settings?tab=2");

        using var response = await browser.Http.SendAsync(request);

        var seen = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var headers = seen.GetProperty("headers");
        Assert.Equal($"127.0.0.1:{world.Device.HttpPort}", headers.GetProperty("host").GetString());
        Assert.Equal(world.Device.HttpOrigin, headers.GetProperty("origin").GetString());
        Assert.Equal($"{world.Device.HttpOrigin}/settings?tab=2", headers.GetProperty("referer").GetString());
        Assert.Equal("/headers?q=1", seen.GetProperty("path").GetString());
        var names = headers.EnumerateObject().Select(h => h.Name).ToList();
        Assert.DoesNotContain(names, n => n.StartsWith("x-forwarded", StringComparison.Ordinal) || n == "forwarded");
    }

    [Fact]
    public async Task HostHeader_OfTheEndpoint_IsWhatTheDeviceSees()
    {
        var endpoint = await world.AddEndpointAsync("named", world.Device.HttpPort, extra: new JsonObject { ["hostHeader"] = "printer.plant.example" });
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        var seen = JsonDocument.Parse(await browser.Http.GetStringAsync(session.At("/headers"))).RootElement;

        Assert.Equal("printer.plant.example", seen.GetProperty("headers").GetProperty("host").GetString());
    }

    [Theory]
    [InlineData("absolute")]
    [InlineData("other-scheme")]
    [InlineData("protocol-relative")]
    public async Task Redirect_ToTheDevicesOwnAddress_InAnySpelling_LandsOnTheSessionOrigin(string kind)
    {
        var endpoint = await world.AddEndpointAsync("redirect", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        using var response = await browser.Http.GetAsync(session.At("/redirect?to=" + kind));

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal(session.At("/home?from=redirect"), new Uri(session.Origin, response.Headers.Location!));
    }

    [Fact]
    public async Task HttpsDevice_LoginRedirectAndCookie_AreRewrittenToo()
    {
        var endpoint = await world.AddEndpointAsync("tls-login", world.Device.HttpsPort, "https");
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        using var post = new HttpRequestMessage(HttpMethod.Post, session.At("/login"))
        {
            Content = new FormUrlEncodedContent([new("username", DeviceWebSite.User), new("password", DeviceWebSite.Password)]),
        };
        post.Headers.Add("Origin", session.Origin.GetLeftPart(UriPartial.Authority));

        using var login = await browser.Http.SendAsync(post);

        Assert.True(login.StatusCode == HttpStatusCode.Found, $"login: {(int)login.StatusCode} {await login.Content.ReadAsStringAsync()}");
        Assert.Equal(session.At("/home"), new Uri(session.Origin, login.Headers.Location!));
        Assert.DoesNotContain("domain", Assert.Single(login.Headers.GetValues("Set-Cookie")), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Welcome", await browser.Http.GetStringAsync(session.At("/home")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("relative", "/home?from=redirect")]
    [InlineData("foreign", "http://www.example.com/manual?from=redirect")]
    public async Task Redirect_RelativeOrToAnotherSite_PassesUnchanged(string kind, string expected)
    {
        var endpoint = await world.AddEndpointAsync("redirect", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        using var response = await browser.Http.GetAsync(session.At("/redirect?to=" + kind));

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal(expected, response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Cookies_InEveryEmbeddedSpelling_LoseTheirDomain_AndKeepTheirOtherAttributes()
    {
        var endpoint = await world.AddEndpointAsync("cookies", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        using var response = await browser.Http.GetAsync(session.At("/cookies"));

        var cookies = response.Headers.GetValues("Set-Cookie").ToList();
        Assert.Equal(4, cookies.Count);
        Assert.DoesNotContain(cookies, c => c.Contains("domain", StringComparison.OrdinalIgnoreCase));
        var lang = Assert.Single(cookies, c => c.StartsWith("lang=en", StringComparison.Ordinal));
        Assert.Contains("Expires=Wed, 21 Oct 2037 07:28:00 GMT", lang, StringComparison.Ordinal);
        Assert.Contains("Path=/", lang, StringComparison.Ordinal);
        Assert.Contains("HttpOnly", lang, StringComparison.Ordinal);
        Assert.Contains("path=/settings", Assert.Single(cookies, c => c.StartsWith("panel=left", StringComparison.Ordinal)), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Secure", Assert.Single(cookies, c => c.StartsWith("theme=dark", StringComparison.Ordinal)), StringComparison.Ordinal);
        var stored = browser.Cookies.GetCookies(session.At("/settings/x")).Where(c => !c.Name.StartsWith("__Host-", StringComparison.Ordinal)).ToList();
        Assert.Equal(["lang", "panel", "plain", "theme"], stored.Select(c => c.Name).Order());
        Assert.All(stored, c => Assert.Equal(session.Origin.Host, c.Domain));
    }

    [Fact]
    public async Task Redirect_BuiltFromTheHostHeader_OfAnEndpointWithAHostHeader_LandsOnTheSessionOrigin()
    {
        var endpoint = await world.AddEndpointAsync("named-redirect", world.Device.HttpPort, extra: new JsonObject { ["hostHeader"] = "printer.plant.example" });
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        // The device knows itself as printer.plant.example and redirects there; the browser cannot reach that name.
        using var response = await browser.Http.GetAsync(session.At("/redirect?to=host"));

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal(session.At("/home?from=redirect"), new Uri(session.Origin, response.Headers.Location!));
    }

    [Fact]
    public async Task ForeignOrigin_IsNotRewritten_SoTheDevicesCsrfCheckStillRefusesIt()
    {
        var endpoint = await world.AddEndpointAsync("csrf", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        using var post = new HttpRequestMessage(HttpMethod.Post, session.At("/login"))
        {
            Content = new FormUrlEncodedContent([new("username", DeviceWebSite.User), new("password", DeviceWebSite.Password)]),
        };
        post.Headers.Add("Origin", "https://evil.example");

        using var login = await browser.Http.SendAsync(post);

        Assert.Equal(HttpStatusCode.Forbidden, login.StatusCode);
    }
}
