using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Porthole.Tests.Common.DeviceWeb;

namespace Porthole.FunctionalTests.WebProxy;

/// <summary>
/// HTTP authentication of the device (docs/design/web-proxy.md, "Authentication"): without a stored credential the
/// challenge reaches the browser and its answer reaches the device; with a stored <c>http-password</c> the server
/// answers basic (nginx) and digest (lighttpd) challenges itself and the password never reaches the browser.
/// </summary>
[Collection(WebProxyCollection.Name)]
public sealed class DeviceAuthenticationTests(WebProxyStack world) : IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => world.EndWebSessionsAsync();

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    [Fact]
    public async Task Basic_WithoutAStoredCredential_TheChallengeReachesTheBrowser_AndItsAnswerTheDevice()
    {
        var endpoint = await world.AddEndpointAsync("basic", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        using (var challenge = await browser.Http.GetAsync(session.At("/basic/")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
            Assert.Equal($"Basic realm=\"{DeviceWebSite.BasicRealm}\"", challenge.Headers.WwwAuthenticate.ToString());
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, session.At("/basic/"));
        request.Headers.Authorization = Basic(DeviceWebSite.User, DeviceWebSite.Password);
        using var answered = await browser.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Contains("Basic area", await answered.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Basic_WithAStoredCredential_OpensWithoutAPrompt_AndIgnoresTheBrowsersAuthorization()
    {
        var endpoint = await world.AddEndpointAsync("basic-stored", world.Device.HttpPort);
        await world.SetHttpCredentialAsync(endpoint);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        using (var page = await browser.Http.GetAsync(session.At("/basic/")))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("Basic area", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Empty(page.Headers.WwwAuthenticate);
        }

        // A wrong password typed into the browser is dropped: the stored one is used.
        using var request = new HttpRequestMessage(HttpMethod.Get, session.At("/basic/index.html"));
        request.Headers.Authorization = Basic(DeviceWebSite.User, "typed-wrong");
        using var again = await browser.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);

        // The password never comes back: not in what the device's pages reach, not in the server's output.
        var headers = await browser.Http.GetStringAsync(session.At("/headers"));
        Assert.DoesNotContain(DeviceWebSite.Password, headers, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes($"{DeviceWebSite.User}:{DeviceWebSite.Password}")), headers, StringComparison.Ordinal);
        Assert.DoesNotContain(DeviceWebSite.Password, world.Stack.Server.CapturedOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Digest_WithoutAStoredCredential_TheChallengeReachesTheBrowser()
    {
        var endpoint = await world.AddEndpointAsync("digest", world.Device.DigestPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        using var challenge = await browser.Http.GetAsync(session.At("/digest/"));

        Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
        Assert.StartsWith($"Digest realm=\"{DeviceWebSite.DigestRealm}\"", challenge.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Digest_WithoutAStoredCredential_TheBrowsersAnswerReachesTheDevice_EvenForAnUpload()
    {
        var endpoint = await world.AddEndpointAsync("digest-browser", world.Device.DigestPort);
        using var browser = new WebProxyClient(world.Stack);
        // What the user types into the browser's prompt; the browser computes the digest responses.
        browser.Handler.Credentials = new NetworkCredential(DeviceWebSite.User, DeviceWebSite.Password);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        Assert.Contains("Digest area", await browser.Http.GetStringAsync(session.At("/digest/")), StringComparison.Ordinal);
        var content = new RandomContent(5_000_000, seed: 6);
        using var response = await browser.Http.PostAsync(session.At("/digest/upload"), content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"upload: {(int)response.StatusCode} {body}");
        Assert.Equal(content.Sha256, System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task Digest_WithAStoredCredential_IsAnsweredByTheServer_OnEveryPage()
    {
        var endpoint = await world.AddEndpointAsync("digest-stored", world.Device.DigestPort);
        await world.SetHttpCredentialAsync(endpoint);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        for (var i = 0; i < 3; i++)
        {
            using var page = await browser.Http.GetAsync(session.At(i == 0 ? "/digest/" : "/digest/index.html"));
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("Digest area", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task FirmwareUpload_BehindBasicAuth_WithAStoredCredential_AsTheSessionsFirstRequest_ArrivesIntact()
    {
        var endpoint = await world.AddEndpointAsync("basic-upload", world.Device.HttpPort);
        await world.SetHttpCredentialAsync(endpoint);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        var content = new RandomContent(20_000_000, seed: 3);

        // Nothing has been challenged yet: the device's 401 comes while the body streams, and the server must still
        // deliver the whole body with the stored password.
        using var response = await browser.Http.PostAsync(session.At("/basic/upload"), content);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"upload: {(int)response.StatusCode} {body}\n--- server ---\n{world.ServerLogTail()}");
        Assert.Equal(content.Sha256, System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task FirmwareUpload_BehindBasicAuth_WithAStoredCredential_AfterAPageWasChallenged_ArrivesIntact()
    {
        var endpoint = await world.AddEndpointAsync("basic-upload-late", world.Device.HttpPort);
        await world.SetHttpCredentialAsync(endpoint);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        using (var page = await browser.Http.GetAsync(session.At("/basic/")))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        }

        // Basic is pre-authenticated after the first challenge (design), so this body is sent once.
        var content = new RandomContent(20_000_000, seed: 5);
        using var response = await browser.Http.PostAsync(session.At("/basic/upload"), content);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"upload: {(int)response.StatusCode} {body}\n--- server ---\n{world.ServerLogTail()}");
        Assert.Equal(content.Sha256, System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task FirmwareUpload_BehindDigestAuth_WithAStoredCredential_ArrivesIntact()
    {
        var endpoint = await world.AddEndpointAsync("digest-upload", world.Device.DigestPort);
        await world.SetHttpCredentialAsync(endpoint);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        using (var page = await browser.Http.GetAsync(session.At("/digest/")))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        }

        var content = new RandomContent(20_000_000, seed: 4);
        using var response = await browser.Http.PostAsync(session.At("/digest/upload"), content);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"upload: {(int)response.StatusCode} {body}\n--- server ---\n{world.ServerLogTail()}");
        Assert.Equal(content.Sha256, System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task WrongStoredCredential_LetsTheDevicesRefusalThrough()
    {
        var endpoint = await world.AddEndpointAsync("basic-wrong", world.Device.HttpPort);
        await world.SetHttpCredentialAsync(endpoint, password: "not-the-device-password");
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        using var page = await browser.Http.GetAsync(session.At("/basic/"));

        Assert.Equal(HttpStatusCode.Unauthorized, page.StatusCode);
    }
}
