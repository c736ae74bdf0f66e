using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Porthole.Console.Tests.Fixtures;
using Porthole.Tests.Common.DeviceWeb;
using static Microsoft.Playwright.Assertions;

namespace Porthole.Console.Tests.WebProxy;

/// <summary>
/// A device's embedded web page opened from the console in headless Chromium (issue 6, docs/design/web-proxy.md):
/// a new tab on the session's own origin, the device's own login form and redirect, a stored basic-auth password
/// used without a prompt, and none of the console's cookies on the device's origin.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed partial class DeviceWebPageTests(ConsoleStack stack, DeviceWebSite device) : IClassFixture<DeviceWebSite>, IAsyncLifetime
{
    private const string Gateway = ConsoleStack.GatewayName;
    private IBrowserContext _context = null!;

    public async Task InitializeAsync() => _context = await stack.NewContextAsync();

    public async Task DisposeAsync() => await _context.DisposeAsync();

    [Fact]
    public async Task OpenDeviceWebpage_LogInOnTheDevicesForm_StayLoggedIn_AndUseTheStoredBasicPassword()
    {
        var endpoint = await AddEndpointAsync("printer");
        var console = await stack.LogInAsync(_context);
        var (devicePage, origin) = await OpenDeviceWebpageAsync(_context, console, endpoint);

        // The device's own login form: its Origin check passes, its absolute redirect lands on the session origin.
        await devicePage.ClickAsync("#login");
        await devicePage.FillAsync("#username", DeviceWebSite.User);
        await devicePage.FillAsync("#password", DeviceWebSite.Password);
        await devicePage.ClickAsync("button#login");
        await devicePage.WaitForURLAsync(new Uri(origin, "/home").ToString());
        await Expect(devicePage.Locator("#title")).ToHaveTextAsync("Welcome");
        await devicePage.ScreenshotAsync(new() { Path = Path.Combine(ConsoleStack.ScreenshotDirectory, "device-webpage.png") });

        // Logged in across pages.
        await devicePage.ClickAsync("#settings");
        await Expect(devicePage.Locator("#settings-page")).ToBeVisibleAsync();
        await devicePage.ClickAsync("#home");
        await Expect(devicePage.Locator("#title")).ToHaveTextAsync("Welcome");
        await devicePage.GotoAsync(new Uri(origin, "/settings").ToString());
        await Expect(devicePage.Locator("#settings-page")).ToBeVisibleAsync();

        // Basic auth answered by the server with the stored password: the page opens, no prompt.
        var basic = await devicePage.GotoAsync(new Uri(origin, "/basic/").ToString());
        Assert.Equal(200, basic!.Status);
        await Expect(devicePage.Locator("#title")).ToHaveTextAsync("Basic area");

        // A live page: its WebSocket and server-sent events work through the session origin.
        await devicePage.GotoAsync(new Uri(origin, "/live.html").ToString());
        await Expect(devicePage.Locator("#ws")).ToHaveTextAsync("ping from the panel", new() { Timeout = 15_000 });
        await Expect(devicePage.Locator("#sse")).ToHaveTextAsync("tick 3", new() { Timeout = 15_000 });

        // The console's session cookie is not visible on, nor sent to, the device's origin.
        var consoleCookies = await _context.CookiesAsync([stack.ServerUrl.ToString()]);
        Assert.Contains(consoleCookies, c => c.Name == "porthole_session");
        var deviceCookies = await _context.CookiesAsync([origin.ToString()]);
        Assert.DoesNotContain(deviceCookies, c => c.Name == "porthole_session");
        Assert.Contains(deviceCookies, c => c.Name == DeviceBackend.SessionCookie && c.Domain == origin.Host);
        Assert.Contains(deviceCookies, c => c.Name == "__Host-porthole-web" && c.Domain == origin.Host && c.HttpOnly && c.Secure);
        var documentCookie = await devicePage.EvaluateAsync<string>("() => document.cookie");
        Assert.DoesNotContain("porthole", documentCookie, StringComparison.Ordinal);

        // What the browser sends from the device page, as the device receives it.
        await devicePage.GotoAsync(new Uri(origin, "/").ToString());
        var seen = await devicePage.EvaluateAsync<string>("async () => JSON.stringify(await (await fetch('/headers')).json())");
        var cookieHeader = JsonDocument.Parse(seen).RootElement.GetProperty("headers").TryGetProperty("cookie", out var c) ? c.GetString() ?? "" : "";
        Assert.Contains(DeviceBackend.SessionCookie + "=", cookieHeader, StringComparison.Ordinal);
        Assert.DoesNotContain("porthole", cookieHeader, StringComparison.Ordinal);

        // And the device page cannot read the console's API with the user's session.
        var apiStatus = await devicePage.EvaluateAsync<string>(
            $"async () => {{ try {{ const r = await fetch('{stack.ServerUrl.GetLeftPart(UriPartial.Authority)}/api/v1/devices', {{ credentials: 'include' }}); return 'status ' + r.status; }} catch (e) {{ return 'blocked'; }} }}");
        Assert.Equal("blocked", apiStatus);
    }

    [Fact]
    public async Task EndFromTheConsole_TheDeviceTabSaysSo_AndTheRequestLogIsLinkedFromTheAudit()
    {
        var endpoint = await AddEndpointAsync("panel");
        var console = await stack.LogInAsync(_context);
        var (devicePage, origin) = await OpenDeviceWebpageAsync(_context, console, endpoint);
        await devicePage.GotoAsync(new Uri(origin, "/login?next=secret-query-value").ToString());
        await Expect(devicePage.Locator("#title")).ToHaveTextAsync("Device login");
        var id = origin.Host.Split('.')[0];

        await console.GotoAsync("/admin/sessions");
        var row = console.Locator($"tr[data-session='{id}']");
        await Expect(row).ToContainTextAsync("web");
        await Expect(row).ToContainTextAsync($"{Gateway} / {endpoint}");
        await row.Locator("[data-action=terminate]").ClickAsync();
        await Expect(row).ToHaveCountAsync(0);

        await devicePage.ReloadAsync();
        await Expect(devicePage.Locator("body")).ToContainTextAsync("ended", new() { IgnoreCase = true });
        await Expect(devicePage.Locator("body")).Not.ToContainTextAsync("Device login");

        await console.GotoAsync("/admin/audit");
        await console.Locator($"a.web-requests[href='/admin/web-sessions/{id}']").First.ClickAsync();
        var requests = console.Locator("#web-requests");
        await Expect(requests).ToContainTextAsync("/login");
        await Expect(requests).Not.ToContainTextAsync("secret-query-value");
    }

    [Fact]
    public async Task BasicAuth_WithoutAStoredCredential_IsTheBrowsersOwnPrompt()
    {
        var endpoint = await AddEndpointAsync("router", storeCredential: false);
        await using var context = await stack.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = stack.ServerUrl.ToString().TrimEnd('/'),
            IgnoreHTTPSErrors = true,
            // What the user types into Chromium's prompt.
            HttpCredentials = new HttpCredentials { Username = DeviceWebSite.User, Password = DeviceWebSite.Password },
        });
        var console = await stack.LogInAsync(context);
        var (devicePage, origin) = await OpenDeviceWebpageAsync(context, console, endpoint);

        var basic = await devicePage.GotoAsync(new Uri(origin, "/basic/").ToString());

        Assert.Equal(200, basic!.Status);
        await Expect(devicePage.Locator("#title")).ToHaveTextAsync("Basic area");
    }

    /// <remarks>
    /// Session hosts share a parent domain (<c>localhost</c>, or the configured wildcard domain); a page on one must
    /// not be able to plant cookies that the browser then sends to another session's device ("cookie tossing").
    /// </remarks>
    [Fact]
    public async Task CookiesSetByOneDevicePage_ForTheParentDomain_DoNotReachAnotherSession()
    {
        var endpoint = await AddEndpointAsync("tosser", storeCredential: false);
        var console = await stack.LogInAsync(_context);
        var (first, _) = await OpenDeviceWebpageAsync(_context, console, endpoint);
        var (second, _) = await OpenDeviceWebpageAsync(_context, console, endpoint);

        await first.EvaluateAsync("() => { document.cookie = 'own=1; path=/'; document.cookie = 'tossed=1; domain=localhost; path=/'; document.cookie = 'tossed2=1; domain=.localhost; path=/'; }");
        var own = await first.EvaluateAsync<string>("async () => JSON.stringify(await (await fetch('/headers')).json())");
        Assert.Contains("own=1", own, StringComparison.Ordinal);

        var seen = await second.EvaluateAsync<string>("async () => JSON.stringify(await (await fetch('/headers')).json())");
        var cookieHeader = JsonDocument.Parse(seen).RootElement.GetProperty("headers").TryGetProperty("cookie", out var c) ? c.GetString() ?? "" : "";
        Assert.DoesNotContain("tossed", cookieHeader, StringComparison.Ordinal);
    }

    private async Task<string> AddEndpointAsync(string prefix, bool storeCredential = true)
    {
        var endpoint = $"{prefix}-{Guid.NewGuid().ToString("N")[..6]}";
        await stack.Stack.CliOkAsync("endpoints", "add", Gateway, "--name", endpoint, "--host", "127.0.0.1", "--port", device.HttpPort.ToString(CultureInfo.InvariantCulture), "--protocol", "http");
        if (storeCredential)
        {
            var stored = await stack.Stack.CliAsync(["endpoints", "set-credential", $"{Gateway}/{endpoint}", "--kind", "http-password", "--username", DeviceWebSite.User, "--password-stdin"], stdin: DeviceWebSite.Password + "\n");
            Assert.True(stored.ExitCode == 0, stored.ToString());
        }

        return endpoint;
    }

    /// <summary>Remote access tab → row menu → "Open device webpage": the new tab, once it shows the device's index on the session origin.</summary>
    private async Task<(IPage Page, Uri Origin)> OpenDeviceWebpageAsync(IBrowserContext context, IPage console, string endpoint)
    {
        await console.GotoAsync($"/devices/{Gateway}/remote-access");
        var row = console.Locator($"tr[data-endpoint={endpoint}]");
        await row.Locator(".row-menu-button").ClickAsync();
        var devicePage = await context.RunAndWaitForPageAsync(() => row.GetByRole(AriaRole.Menuitem, new() { Name = "Open device webpage" }).ClickAsync());

        // A new tab that moves to the session's own origin, past the ticket exchange, on the device's index.
        await devicePage.WaitForURLAsync(url => SessionHost().IsMatch(new Uri(url).Host) && new Uri(url).AbsolutePath == "/", new() { Timeout = 30_000 });
        var origin = new Uri(new Uri(devicePage.Url).GetLeftPart(UriPartial.Authority));
        Assert.Equal("https", origin.Scheme);
        Assert.Equal(stack.ServerUrl.Port, origin.Port);
        await Expect(devicePage.Locator("#title")).ToHaveTextAsync("Test device");
        return (devicePage, origin);
    }

    [GeneratedRegex("^[a-z2-7]{26}\\.localhost$")]
    private static partial Regex SessionHost();
}
