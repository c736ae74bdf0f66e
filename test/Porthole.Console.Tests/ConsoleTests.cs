using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Playwright;
using Porthole.Console.Tests.Fixtures;
using static Microsoft.Playwright.Assertions;

namespace Porthole.Console.Tests;

[Collection(ConsoleCollection.Name)]
public sealed class ConsoleTests(ConsoleStack stack) : IAsyncLifetime
{
    private const string Gateway = ConsoleStack.GatewayName;
    private IBrowserContext _context = null!;

    public async Task InitializeAsync() => _context = await stack.NewContextAsync();

    public async Task DisposeAsync() => await _context.DisposeAsync();

    [Fact]
    public async Task Login_ThroughTheLoginPage_ShowsTheSignedInUser()
    {
        var page = await stack.LogInAsync(_context);

        await Expect(page.Locator("#current-user")).ToHaveTextAsync("admin");
        await Expect(page.Locator("main")).ToContainTextAsync("Signed in as admin");
    }

    [Fact]
    public async Task Login_WithAWrongPassword_ShowsTheServersReason()
    {
        var page = await _context.NewPageAsync();
        await page.GotoAsync("/login");
        await page.FillAsync("#username", "admin");
        await page.FillAsync("#password", "not-the-password");
        await page.ClickAsync("button[type=submit]");

        await Expect(page.Locator("[role=alert]")).ToContainTextAsync("wrong username or password");
    }

    [Fact]
    public async Task DevicesList_ShowsTheOnlineGateway_AndFilters()
    {
        var page = await stack.LogInAsync(_context);
        await page.GotoAsync("/devices");

        var row = page.Locator($"tr[data-device={Gateway}]");
        await Expect(row).ToContainTextAsync("Online");
        await Expect(row).ToContainTextAsync("plant-1/line-a");
        await Expect(row).ToContainTextAsync("Enabled");
        await page.ScreenshotAsync(new() { Path = Path.Combine(ConsoleStack.ScreenshotDirectory, "devices.png"), FullPage = true });

        await page.SelectOptionAsync("#state", "offline");
        await page.ClickAsync("#device-filters button[type=submit]");
        await Expect(page.Locator($"tr[data-device={Gateway}]")).ToHaveCountAsync(0);

        await page.GotoAsync("/devices?q=gw-con&tag=hmi&group=plant-1");
        await Expect(page.Locator($"tr[data-device={Gateway}]")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task RegisterDevice_ShowsTheTokenAndTheAgentCommand()
    {
        var page = await stack.LogInAsync(_context);
        await page.GotoAsync("/devices");
        await page.ClickAsync("#register-device");
        await page.FillAsync("#device-name", "gw-registered");
        await page.FillAsync("#device-group", "plant-2");
        await page.ClickAsync("#register-submit");

        await Expect(page.Locator("#enrolment-token")).ToContainTextAsync("pte_");
        await Expect(page.Locator("#enrol-command")).ToContainTextAsync($"porthole-agent enrol --server {stack.ServerUrl.ToString().TrimEnd('/')} --token pte_");
        await Expect(page.Locator("#enrol-command")).ToContainTextAsync("--fingerprint " + stack.Stack.Fingerprint);

        // The same name again: the server's reason is shown.
        await page.GotoAsync("/devices/register");
        await page.FillAsync("#device-name", "gw-registered");
        await page.ClickAsync("#register-submit");
        await Expect(page.Locator("#register-error")).ToContainTextAsync("already exists");
    }

    [Fact]
    public async Task AddEndpoint_ThroughTheDialog_AppearsInTheTable_ThenEditAndRemove()
    {
        var page = await stack.LogInAsync(_context);
        await page.GotoAsync($"/devices/{Gateway}/remote-access");

        await page.ClickAsync("#add-endpoint");
        await page.FillAsync("#ep-description", "Line A controller");
        await Expect(page.Locator("#ep-name")).ToHaveValueAsync("line-a-controller");
        await page.FillAsync("#ep-host", "10.0.0.5");
        await page.SelectOptionAsync("#ep-protocol", "telnet");
        await Expect(page.Locator("#ep-port")).ToHaveValueAsync("23");
        await page.ClickAsync("#endpoint-save");

        var row = page.Locator("tr[data-endpoint=line-a-controller]");
        await Expect(row).ToContainTextAsync("Line A controller");
        await Expect(row).ToContainTextAsync("10.0.0.5:23");
        await Expect(row).ToContainTextAsync("telnet");

        // A bad port comes back with the server's problem detail.
        await row.Locator(".row-menu-button").ClickAsync();
        await row.Locator("[data-action=edit]").ClickAsync();
        await page.FillAsync("#ep-port", "70000");
        await page.ClickAsync("#endpoint-save");
        await Expect(page.Locator("#endpoint-error")).ToContainTextAsync("port must be between 1 and 65535");
        await page.FillAsync("#ep-port", "2323");
        await page.ClickAsync("#endpoint-save");
        await Expect(page.Locator("tr[data-endpoint=line-a-controller]")).ToContainTextAsync("10.0.0.5:2323");

        row = page.Locator("tr[data-endpoint=line-a-controller]");
        await row.Locator(".row-menu-button").ClickAsync();
        await row.Locator("[data-action=remove]").ClickAsync();
        await page.ClickAsync("#remove-confirm");
        await Expect(page.Locator("tr[data-endpoint=line-a-controller]")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task AddWebEndpoint_ThroughTheDialog_StoresHostHeaderLinkRewritingAndTheDeviceLogin_WithoutShowingThePassword()
    {
        var page = await stack.LogInAsync(_context);
        await page.GotoAsync($"/devices/{Gateway}/remote-access");

        await page.ClickAsync("#add-endpoint");
        await page.FillAsync("#ep-description", "Label printer");
        await page.FillAsync("#ep-host", "10.0.0.9");
        await page.SelectOptionAsync("#ep-protocol", "http");
        await Expect(page.Locator("#ep-port")).ToHaveValueAsync("80");
        await Expect(page.Locator("#ep-web-fields")).ToBeVisibleAsync();
        await Expect(page.Locator("#ep-ssh-fields")).ToBeHiddenAsync();
        await page.FillAsync("#ep-host-header", "printer.local");
        await page.CheckAsync("#ep-rewrite-links");
        await page.FillAsync("#ep-web-user", "operator");
        await page.FillAsync("#ep-password", "printer-secret-9");
        await page.Locator("#endpoint-dialog").ScreenshotAsync(new() { Path = Path.Combine(ConsoleStack.ScreenshotDirectory, "web-endpoint-dialog.png") });
        await page.ClickAsync("#endpoint-save");

        var row = page.Locator("tr[data-endpoint=label-printer]");
        await Expect(row).ToContainTextAsync("Stored for operator");
        await Expect(page.Locator("body")).Not.ToContainTextAsync("printer-secret-9");
        var shown = await stack.Stack.CliOkAsync("endpoints", "show", $"{Gateway}/label-printer", "--json");
        Assert.Contains("\"hostHeader\": \"printer.local\"", shown, StringComparison.Ordinal);
        Assert.Contains("\"rewriteAbsoluteLinks\": true", shown, StringComparison.Ordinal);
        Assert.Contains("\"kind\": \"http-password\"", shown, StringComparison.Ordinal);
        Assert.DoesNotContain("printer-secret-9", shown, StringComparison.Ordinal);

        // Editing shows what is stored (never the password) and can clear it.
        await row.Locator(".row-menu-button").ClickAsync();
        await row.Locator("[data-action=edit]").ClickAsync();
        await Expect(page.Locator("#ep-host-header")).ToHaveValueAsync("printer.local");
        await Expect(page.Locator("#ep-rewrite-links")).ToBeCheckedAsync();
        await Expect(page.Locator("#ep-password")).ToHaveValueAsync("");
        await page.FillAsync("#ep-host-header", "");
        await page.UncheckAsync("#ep-rewrite-links");
        await page.ClickAsync("#endpoint-save");
        await Expect(page.Locator("tr[data-endpoint=label-printer]")).ToHaveAttributeAsync("data-rewrite-links", "false");
        shown = await stack.Stack.CliOkAsync("endpoints", "show", $"{Gateway}/label-printer", "--json");
        Assert.Contains("\"hostHeader\": null", shown, StringComparison.Ordinal);
        Assert.Contains("\"kind\": \"http-password\"", shown, StringComparison.Ordinal);
        await stack.Stack.CliOkAsync("endpoints", "remove", $"{Gateway}/label-printer");
    }

    [Fact]
    public async Task ConnectVnc_OpensANewTab_AsksForThePassword_AndShowsTheScreen()
    {
        var page = await stack.LogInAsync(_context);
        await page.GotoAsync($"/devices/{Gateway}/remote-access");
        await page.ClickAsync("#add-endpoint");
        await page.FillAsync("#ep-description", "HMI panel");
        await page.FillAsync("#ep-host", "127.0.0.1");
        await page.SelectOptionAsync("#ep-protocol", "vnc");
        await page.FillAsync("#ep-port", stack.Vnc.Port.ToString(CultureInfo.InvariantCulture));
        await page.ClickAsync("#endpoint-save");
        var row = page.Locator("tr[data-endpoint=hmi-panel]");
        await Expect(row).ToContainTextAsync($"127.0.0.1:{stack.Vnc.Port}");
        await page.ScreenshotAsync(new() { Path = Path.Combine(ConsoleStack.ScreenshotDirectory, "device-remote-access.png"), FullPage = true });

        await row.Locator(".row-menu-button").ClickAsync();
        var viewer = await _context.RunAndWaitForPageAsync(() => row.Locator("[data-action=connect]").ClickAsync());

        var status = viewer.Locator("#status");
        await Expect(status).ToContainTextAsync("Starting VNC handshake", new() { Timeout = 20_000 });
        await Expect(viewer.Locator("#credentials")).ToBeVisibleAsync();
        await viewer.FillAsync("#vnc-password", stack.Vnc.Password);
        await viewer.ClickAsync("#credentials-submit");

        await Expect(status).ToHaveTextAsync($"Connected to {Gateway} / HMI panel", new() { Timeout = 20_000 });
        await viewer.WaitForFunctionAsync(
            """
            () => {
              const canvas = document.querySelector('#screen canvas');
              if (!canvas || canvas.width < 100) return false;
              const [r, g, b] = canvas.getContext('2d').getImageData(canvas.width / 2, canvas.height / 2, 1, 1).data;
              return r > 200 && g < 60 && b < 60;
            }
            """, null, new() { Timeout = 20_000 });
        await viewer.ScreenshotAsync(new() { Path = Path.Combine(ConsoleStack.ScreenshotDirectory, "vnc-viewer.png") });

        await viewer.ClickAsync("#disconnect");
        await Expect(status).ToContainTextAsync("Disconnected: you closed the session");
        await Expect(viewer.Locator("#reconnect")).ToBeEnabledAsync();
    }

    [Fact]
    public async Task VncViewer_WhenTheTargetRefuses_ShowsTheReason()
    {
        var refusing = FreePort.Get();
        await stack.Stack.CliOkAsync("endpoints", "add", Gateway, "--name", "vnc-closed", "--host", "127.0.0.1", "--port", refusing.ToString(CultureInfo.InvariantCulture), "--protocol", "vnc");
        var page = await stack.LogInAsync(_context);

        await page.GotoAsync($"/devices/{Gateway}/endpoints/vnc-closed/vnc");

        await Expect(page.Locator("#status")).ToContainTextAsync("refused the connection", new() { Timeout = 30_000 });
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "failed");
    }

    [Fact]
    public async Task Terminal_RunsEchoOnARealShell_AndShowsTheOutput()
    {
        var page = await stack.LogInAsync(_context);
        await page.GotoAsync($"/devices/{Gateway}/remote-access");
        var row = page.Locator($"tr[data-endpoint={ConsoleStack.ShellEndpoint}]");
        await row.Locator(".row-menu-button").ClickAsync();
        var terminal = await _context.RunAndWaitForPageAsync(() => row.Locator("[data-action=connect]").ClickAsync());

        await Expect(terminal.Locator("#status")).ToHaveTextAsync($"Connected to {Gateway} / {ConsoleStack.ShellEndpoint}", new() { Timeout = 20_000 });
        await terminal.Locator("#terminal").ClickAsync();
        await terminal.Keyboard.TypeAsync("echo hello-$((6*7))");
        await terminal.Keyboard.PressAsync("Enter");

        await Expect(terminal.Locator(".xterm-rows")).ToContainTextAsync("hello-42", new() { Timeout = 15_000 });
        await terminal.ScreenshotAsync(new() { Path = Path.Combine(ConsoleStack.ScreenshotDirectory, "terminal.png") });
    }

    [Fact]
    public async Task SshEndpoint_WithAKeyStoredInTheDialog_OpensABrowserTerminal()
    {
        var page = await stack.LogInAsync(_context);
        await page.GotoAsync($"/devices/{Gateway}/remote-access");
        await page.ClickAsync("#add-endpoint");
        await page.FillAsync("#ep-description", "Gateway shell over SSH");
        await page.FillAsync("#ep-host", "127.0.0.1");
        await page.SelectOptionAsync("#ep-protocol", "ssh");
        await page.FillAsync("#ep-port", stack.Stack.Sshd.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.FillAsync("#ep-ssh-user", stack.Stack.Sshd.User);
        await page.FillAsync("#ep-ssh-key", await File.ReadAllTextAsync(stack.Stack.Sshd.ClientKeyPath));
        await page.ClickAsync("#endpoint-save");

        var row = page.Locator("tr[data-endpoint=gateway-shell-over-ssh]");
        await Expect(row).ToContainTextAsync("ssh");
        await row.Locator(".row-menu-button").ClickAsync();
        var terminal = await _context.RunAndWaitForPageAsync(() => row.Locator("[data-action=connect]").ClickAsync());

        await Expect(terminal.Locator("#status")).ToHaveTextAsync($"Connected to {Gateway} / Gateway shell over SSH", new() { Timeout = 20_000 });
        await terminal.Locator("#terminal").ClickAsync();
        await terminal.Keyboard.TypeAsync("echo ssh-$((6*7))");
        await terminal.Keyboard.PressAsync("Enter");
        await Expect(terminal.Locator(".xterm-rows")).ToContainTextAsync("ssh-42", new() { Timeout = 15_000 });

        // The host key was pinned on this first connection and is shown; the key itself never comes back.
        await page.ReloadAsync();
        await Expect(row).ToContainTextAsync("SHA256:");
        await Expect(row).ToContainTextAsync($"Stored for {stack.Stack.Sshd.User}");
        Assert.DoesNotContain("PRIVATE KEY", await page.ContentAsync(), StringComparison.Ordinal);
        await page.ScreenshotAsync(new() { Path = Path.Combine(ConsoleStack.ScreenshotDirectory, "remote-access-ssh.png"), FullPage = true });
    }

    [Fact]
    public async Task SessionsPage_ListsAnOpenTerminal_AndTerminateEndsItWithTheReason()
    {
        var page = await stack.LogInAsync(_context);
        await page.GotoAsync($"/devices/{Gateway}/remote-access");
        var row = page.Locator($"tr[data-endpoint={ConsoleStack.ShellEndpoint}]");
        await row.Locator(".row-menu-button").ClickAsync();
        var terminal = await _context.RunAndWaitForPageAsync(() => row.Locator("[data-action=connect]").ClickAsync());
        await Expect(terminal.Locator("#status")).ToHaveTextAsync($"Connected to {Gateway} / {ConsoleStack.ShellEndpoint}", new() { Timeout = 20_000 });

        await page.GotoAsync("/admin/sessions");
        var session = page.Locator("#sessions tbody tr", new() { HasText = $"{Gateway} / {ConsoleStack.ShellEndpoint}" });
        await Expect(session).ToContainTextAsync("active");
        await Expect(session).ToContainTextAsync("terminal");
        await session.First.Locator("[data-action=terminate]").ClickAsync();

        await Expect(terminal.Locator("#status")).ToContainTextAsync("terminated by admin", new() { Timeout = 15_000 });
    }

    [Fact]
    public async Task DevicePage_EditsGroupAndTags_ReissuesEnrolment_AndRemovesTheDevice()
    {
        var name = "managed-" + Guid.NewGuid().ToString("N")[..6];
        await stack.Stack.RegisterDeviceAsync(name);
        var page = await stack.LogInAsync(_context);
        page.Dialog += (_, dialog) => _ = dialog.AcceptAsync();
        await page.GotoAsync($"/devices/{name}");

        await page.FillAsync("#edit-group", "site-7/hall-b");
        await page.FillAsync("#edit-tags", "press, line-b");
        await page.ClickAsync("#edit-save");
        await Expect(page.Locator("#device-info")).ToContainTextAsync("site-7/hall-b");
        await Expect(page.Locator("#device-info")).ToContainTextAsync("press");

        await page.ClickAsync("#reissue-enrolment");
        await Expect(page.Locator("#reissued-command")).ToContainTextAsync("--token pte_");

        await page.ClickAsync("#remove-device");
        await page.WaitForURLAsync("**/devices");
        var shown = await stack.Stack.CliAsync(["devices", "show", name]);
        Assert.Equal(1, shown.ExitCode);

        await using var techContext = await stack.NewContextAsync();
        var tech = await stack.LogInAsync(techContext, ConsoleStack.TechnicianName);
        await tech.GotoAsync($"/devices/{Gateway}");
        await Expect(tech.Locator("#device-manage")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task Technician_SeesConnect_ButNoAddEditOrRemove()
    {
        var page = await stack.LogInAsync(_context, ConsoleStack.TechnicianName);
        await page.GotoAsync($"/devices/{Gateway}/remote-access");

        var row = page.Locator($"tr[data-endpoint={ConsoleStack.ShellEndpoint}]");
        await Expect(row).ToBeVisibleAsync();
        await Expect(page.Locator("#add-endpoint")).ToHaveCountAsync(0);
        await Expect(page.Locator("[data-action=edit]")).ToHaveCountAsync(0);
        await Expect(page.Locator("[data-action=remove]")).ToHaveCountAsync(0);
        await Expect(row.Locator("[data-action=connect]")).ToHaveCountAsync(1);
        await Expect(page.Locator("#register-device")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task UserWithoutConnect_GetsAccessDenied_NamingThePermission()
    {
        var page = await stack.LogInAsync(_context, ConsoleStack.AuditorName);
        await page.GotoAsync($"/devices/{Gateway}/remote-access");
        await Expect(page.Locator($"tr[data-endpoint={ConsoleStack.ShellEndpoint}]")).ToBeVisibleAsync();
        await Expect(page.Locator(".row-menu")).ToHaveCountAsync(0);

        await page.GotoAsync($"/devices/{Gateway}/endpoints/{ConsoleStack.ShellEndpoint}/terminal");

        Assert.Equal("/access-denied", new Uri(page.Url).AbsolutePath);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Access denied");
        await Expect(page.Locator("#missing-permission")).ToHaveTextAsync("remote-access:connect");
    }

    [Fact]
    public async Task AuditLog_ListsFilteredRecords_AndExportsThem()
    {
        var page = await stack.LogInAsync(_context);
        await page.ClickAsync("nav >> text=Audit log");
        await page.FillAsync("#action", "auth.web-login");
        await page.ClickAsync("#audit-filters button[type=submit]");

        await Expect(page.Locator("#audit tbody tr").First).ToContainTextAsync("auth.web-login");
        await Expect(page.Locator("#audit tbody tr[data-action]:not([data-action='auth.web-login'])")).ToHaveCountAsync(0);
        var csv = await page.EvaluateAsync<string>("async () => (await fetch(document.getElementById('export-csv').href)).text()");
        Assert.StartsWith("sequence,at,actor,action,target,outcome,detail,client_address,hash\n", csv, StringComparison.Ordinal);
        Assert.Contains("auth.web-login", csv, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditLog_WithoutAuditRead_IsDenied()
    {
        var page = await stack.LogInAsync(_context, ConsoleStack.TechnicianName);
        await Expect(page.Locator("nav >> text=Audit log")).ToHaveCountAsync(0);

        await page.GotoAsync("/admin/audit");

        await Expect(page.Locator("#missing-permission")).ToHaveTextAsync("audit:read");
    }

    [Fact]
    public async Task SessionStream_WithTheSessionCookieFromAForeignOrigin_IsRefused()
    {
        var page = await stack.LogInAsync(_context);
        var opened = await page.EvaluateAsync<JsonElement>(
            """
            async (device) => {
              const token = document.querySelector('meta[name="csrf-token"]').content;
              const response = await fetch('/api/v1/sessions', {
                method: 'POST',
                headers: { 'Content-Type': 'application/json', RequestVerificationToken: token },
                body: JSON.stringify({ device, endpoint: 'shell', action: 'terminal' }),
              });
              return await response.json();
            }
            """, Gateway);
        var streamPath = opened.GetProperty("streamPath").GetString()!;
        var clientKey = opened.GetProperty("clientKey").GetString()!;
        var cookie = (await _context.CookiesAsync()).Single(c => c.Name == "porthole_session");

        var foreign = await ConnectStreamAsync(streamPath, clientKey, cookie.Value, "https://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, foreign.Status);

        // The same request from the console's own origin is accepted: the refusal was about the origin.
        var own = await ConnectStreamAsync(streamPath, clientKey, cookie.Value, stack.ServerUrl.GetLeftPart(UriPartial.Authority));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, own.Status);
        Assert.Equal("porthole.data", own.SubProtocol);
    }

    [Fact]
    public async Task OneRequestSessionOpen_WithTheSessionCookieFromAForeignOrigin_IsRefused()
    {
        // The CLI's one-request open (GET /api/v1/sessions/connect) opens a session as it upgrades: with a cookie, a page
        // elsewhere must not get one through the user's browser.
        await stack.LogInAsync(_context);
        var cookie = (await _context.CookiesAsync()).Single(c => c.Name == "porthole_session");
        var connect = $"/api/v1/sessions/connect?device={Gateway}&endpoint=shell";

        var foreign = await ConnectStreamAsync(connect, null, cookie.Value, "https://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, foreign.Status);

        var own = await ConnectStreamAsync(connect, null, cookie.Value, stack.ServerUrl.GetLeftPart(UriPartial.Authority));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, own.Status);
    }

    private async Task<(HttpStatusCode Status, string? SubProtocol)> ConnectStreamAsync(string pathAndQuery, string? clientKey, string sessionCookie, string origin)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        socket.Options.SetRequestHeader("Origin", origin);
        socket.Options.SetRequestHeader("Cookie", "porthole_session=" + sessionCookie);
        socket.Options.AddSubProtocol("porthole.data");
        if (clientKey is not null)
        {
            socket.Options.AddSubProtocol("porthole.key." + clientKey);
        }

        var url = new Uri(new UriBuilder(stack.ServerUrl) { Scheme = "wss" }.Uri, pathAndQuery);
        try
        {
            await socket.ConnectAsync(url, CancellationToken.None);
        }
        catch (WebSocketException)
        {
            return (socket.HttpStatusCode, null);
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "test done", CancellationToken.None);
        return (socket.HttpStatusCode, socket.SubProtocol);
    }
}
