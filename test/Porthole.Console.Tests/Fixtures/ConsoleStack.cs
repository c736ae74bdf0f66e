using System.Globalization;
using Microsoft.Playwright;

namespace Porthole.Console.Tests.Fixtures;

/// <summary>
/// Everything the browser tests share: the Porthole stack with one online gateway, a red-screen VNC server and a shell
/// console as targets, users with narrower roles, and headless Debian Chromium driven by Playwright.
/// </summary>
public sealed class ConsoleStack : IAsyncLifetime
{
    public const string GatewayName = "gw-console";
    public const string ShellEndpoint = "shell";
    public const string TechnicianName = "tech";
    public const string AuditorName = "auditor";
    public const string UserPassword = "console-tests-password";

    /// <summary>Chromium switches for a container without a GPU or a sandbox (DEPENDENCY-NOTES.md).</summary>
    private static readonly string[] ChromiumArgs =
        ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

    public PortholeStack Stack { get; } = new();

    /// <summary>TigerVNC with VNC Authentication only, its screen painted red so the canvas can be checked.</summary>
    public VncServer Vnc { get; private set; } = null!;

    public ShellTarget Shell { get; private set; } = null!;

    public IPlaywright Playwright { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public Uri ServerUrl => Stack.ServerUrl;

    /// <summary>Where screenshots go (git-ignored), for people to look at after a run.</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(Binaries.RepositoryRoot, ".artifacts", "console-screenshots");

    public async Task InitializeAsync()
    {
        await Stack.InitializeAsync();
        await Stack.StartGatewayAsync(GatewayName);
        await Stack.CliOkAsync("devices", "update", GatewayName, "--group", "plant-1/line-a", "--tag", "line-a", "--tag", "hmi");
        Vnc = await VncServer.StartAsync(VncServer.Flavour.TigerVncAuthOnly);
        await Vnc.PaintAsync("red");
        Shell = await ShellTarget.StartAsync();
        await Stack.CliOkAsync("endpoints", "add", GatewayName, "--name", ShellEndpoint, "--host", "127.0.0.1", "--port", Shell.Port.ToString(CultureInfo.InvariantCulture), "--protocol", "tcp");
        await AddUserAsync(TechnicianName, "Technician");
        await AddUserAsync(AuditorName, "Auditor");

        Directory.CreateDirectory(ScreenshotDirectory);
        // Expectations wait up to 15 s, not Playwright's 5: on a loaded 2-core CI machine a page's first API call has
        // taken longer (the users and groups pages each failed once that way, and passed when run again).
        Assertions.SetDefaultExpectTimeout(15_000);
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ChromiumArgs,
        });
    }

    private async Task AddUserAsync(string name, string role)
    {
        var result = await Stack.CliAsync(["users", "add", name, "--role", role, "--password-stdin"], stdin: UserPassword + "\n");
        Assert.True(result.ExitCode == 0, $"users add {name} failed: {result}");
    }

    /// <summary>A fresh browser profile (no cookies) that trusts the stack's self-signed certificate.</summary>
    public Task<IBrowserContext> NewContextAsync() =>
        Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = ServerUrl.ToString().TrimEnd('/'),
            IgnoreHTTPSErrors = true,
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
            Permissions = ["clipboard-read", "clipboard-write"],
        });

    /// <summary>Logs in through the login page and returns the page, on the overview.</summary>
    public async Task<IPage> LogInAsync(IBrowserContext context, string username = "admin", string? password = null)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync("/login");
        await page.FillAsync("#username", username);
        await page.FillAsync("#password", password ?? (username == "admin" ? PortholeStack.AdminPassword : UserPassword));
        await page.ClickAsync("button[type=submit]");
        // The suite's first login is the server's first page render and password check, while the functional tests
        // load both cores: once it took longer than Playwright's default 30 s (CI, 2026-12-06). Later ones take < 1 s.
        try
        {
            await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/", new PageWaitForURLOptions { Timeout = 90_000 });
        }
        catch (TimeoutException ex)
        {
            // Once in CI (2026-12-07) the page stayed where it was for 90 s with the network idle: say where it stayed and
            // what it showed, so the next occurrence tells a refused login from a submit that never left the browser.
            var body = await page.InnerTextAsync("body");
            throw new TimeoutException($"login as {username} did not reach the overview; the page is {page.Url}, showing: {body[..Math.Min(body.Length, 500)]}", ex);
        }

        return page;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        Playwright?.Dispose();
        if (Shell is not null)
        {
            await Shell.DisposeAsync();
        }

        if (Vnc is not null)
        {
            await Vnc.DisposeAsync();
        }

        await Stack.DisposeAsync();
    }
}

/// <summary>The browser tests share one stack and one browser (starting them takes seconds).</summary>
[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ConsoleStack>
{
    public const string Name = "console";
}
