using Microsoft.Playwright;
using Porthole.Console.Tests.Fixtures;
using static Microsoft.Playwright.Assertions;

namespace Porthole.Console.Tests;

[Collection(ConsoleCollection.Name)]
public sealed class AdminPagesTests(ConsoleStack stack) : IAsyncLifetime
{
    private const string Gateway = ConsoleStack.GatewayName;
    private IBrowserContext _context = null!;

    public async Task InitializeAsync() => _context = await stack.NewContextAsync();

    public async Task DisposeAsync() => await _context.DisposeAsync();

    [Fact]
    public async Task Users_AddWithGeneratedPassword_ShowsItOnce_ThenGrantRestrictedToAGroup()
    {
        var page = await stack.LogInAsync(_context);
        await page.ClickAsync("nav >> text=Users");
        await Expect(page.Locator("tr[data-user=admin]")).ToBeVisibleAsync();

        await page.ClickAsync("#add-user");
        await page.FillAsync("#new-username", "operator-1");
        await page.SelectOptionAsync("#new-role", "");
        await page.ClickAsync("#user-save");

        var password = page.Locator("#generated-password");
        await Expect(password).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[A-Za-z0-9]{20}$"));
        var row = page.Locator("tr[data-user=operator-1]");
        await Expect(row).ToContainTextAsync("must change password");
        await Expect(row).ToContainTextAsync("no grants");
        await page.ClickAsync("#password-done");
        await Expect(password).ToBeEmptyAsync();
        await page.ReloadAsync();
        await Expect(page.Locator("tr[data-user=operator-1]")).ToBeVisibleAsync();
        await Expect(page.Locator("#generated-password")).ToBeEmptyAsync();

        row = page.Locator("tr[data-user=operator-1]");
        await row.Locator("[data-action=add-grant]").ClickAsync();
        await page.SelectOptionAsync("#grant-role", "Technician");
        await page.FillAsync("#grant-groups", "plant-9");
        await page.ClickAsync("#grant-save");
        await Expect(page.Locator("#grant-error")).ToContainTextAsync("group 'plant-9' does not exist");
        await page.FillAsync("#grant-groups", "plant-1");
        await page.CheckAsync("#grant-actions input[value=vnc]");
        await page.ClickAsync("#grant-save");
        await Expect(row.Locator("[data-grant]")).ToContainTextAsync("Technician on groups plant-1; actions vnc");
        await page.ScreenshotAsync(new() { Path = Path.Combine(ConsoleStack.ScreenshotDirectory, "admin-users.png"), FullPage = true });

        await row.Locator("[data-action=disable]").ClickAsync();
        await Expect(row).ToContainTextAsync("Disabled");
        await row.Locator("[data-action=enable]").ClickAsync();
        await Expect(row).ToContainTextAsync("Enabled");

        await row.Locator("[data-action=remove-grant]").ClickAsync();
        await page.ClickAsync("#confirm-ok");
        await Expect(row).ToContainTextAsync("no grants");

        await row.Locator("[data-action=remove]").ClickAsync();
        await page.ClickAsync("#confirm-ok");
        await Expect(page.Locator("tr[data-user=operator-1]")).ToHaveCountAsync(0);

        // The server refuses to remove the signed-in account, and the page says why.
        await page.Locator("tr[data-user=admin] [data-action=remove]").ClickAsync();
        await page.ClickAsync("#confirm-ok");
        await Expect(page.Locator("#confirm-error")).ToContainTextAsync("you cannot remove your own account");
    }

    [Fact]
    public async Task Users_WithoutUsersManage_GetsAccessDenied_NamingThePermission()
    {
        var page = await stack.LogInAsync(_context, ConsoleStack.TechnicianName);
        await Expect(page.Locator("nav >> text=Users")).ToHaveCountAsync(0);

        await page.GotoAsync("/admin/users");

        Assert.Equal("/access-denied", new Uri(page.Url).AbsolutePath);
        await Expect(page.Locator("#missing-permission")).ToHaveTextAsync("users:manage");
    }

    [Fact]
    public async Task RemoteAccessRules_StageAndCommitADeviceRule_TheDevicesListShowsItsSource()
    {
        var page = await stack.LogInAsync(_context);
        await page.ClickAsync("nav >> text=Access rules");
        await Expect(page.Locator("#rules-staged")).ToContainTextAsync("No staged changes");
        try
        {
            await page.SelectOptionAsync("#rule-scope", "device");
            await page.FillAsync("#rule-target", "gw-missing");
            await page.SelectOptionAsync("#rule-setting", "disable");
            await page.ClickAsync("#stage-submit");
            await Expect(page.Locator("#rules-error")).ToContainTextAsync("gw-missing");

            await page.FillAsync("#rule-target", Gateway);
            await page.ClickAsync("#stage-submit");
            var staged = page.Locator($"#rules-staged tr[data-target={Gateway}]");
            await Expect(staged).ToContainTextAsync("Disabled");
            await Expect(staged).ToContainTextAsync("admin");

            await page.ClickAsync("#commit");
            // Sessions earlier tests left open on the gateway (web pages, terminals) end with the commit, and the result says so.
            await Expect(page.Locator("#rules-result")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^1 change\(s\) applied\.( \d+ open session\(s\) on devices now disabled were ended\.)?$"));
            await Expect(page.Locator($"#rules-committed tr[data-target={Gateway}]")).ToContainTextAsync("committed");
            await Expect(page.Locator("#rules-staged")).ToContainTextAsync("No staged changes");

            await page.GotoAsync("/devices");
            var device = page.Locator($"tr[data-device={Gateway}]");
            await Expect(device).ToContainTextAsync("Disabled");
            await Expect(device).ToContainTextAsync($"device {Gateway}");

            // Discard drops a staged change without applying it.
            await page.GotoAsync("/admin/remote-access");
            await page.SelectOptionAsync("#rule-scope", "global");
            await page.SelectOptionAsync("#rule-setting", "disable");
            await page.ClickAsync("#stage-submit");
            await Expect(page.Locator("#rules-staged tr[data-scope=global]")).ToBeVisibleAsync();
            await page.ClickAsync("#discard");
            await Expect(page.Locator("#rules-result")).ToHaveTextAsync("1 staged change(s) discarded.");
            await Expect(page.Locator("#rules-staged")).ToContainTextAsync("No staged changes");
        }
        finally
        {
            // Other tests use the gateway: always put its rule back through the API.
            await RestoreRemoteAccessAsync(page);
        }

        await page.GotoAsync("/devices");
        await Expect(page.Locator($"tr[data-device={Gateway}]")).ToContainTextAsync("Enabled");
    }

    [Fact]
    public async Task Roles_CreateACustomRole_ThenRemoveIt_BuiltInsAreReadOnly()
    {
        var page = await stack.LogInAsync(_context);
        await page.ClickAsync("nav >> text=Roles");
        await Expect(page.Locator("tr[data-role=Administrator]")).ToContainTextAsync("built-in");
        await Expect(page.Locator("tr[data-role=Administrator] [data-action=remove]")).ToHaveCountAsync(0);

        await page.FillAsync("#role-name", "viewer-only");
        await page.ClickAsync("#role-save");
        await Expect(page.Locator("#role-error")).ToContainTextAsync("a role needs at least one permission");

        await page.FillAsync("#role-description", "Sees devices");
        await page.CheckAsync("#role-permissions input[value='devices:read']");
        await page.CheckAsync("#role-permissions input[value='remote-access:read']");
        await page.ClickAsync("#role-save");
        var row = page.Locator("tr[data-role=viewer-only]");
        await Expect(row).ToContainTextAsync("Sees devices");
        await Expect(row).ToContainTextAsync("devices:read");
        await Expect(row).ToContainTextAsync("remote-access:read");

        await row.Locator("[data-action=remove]").ClickAsync();
        await page.ClickAsync("#confirm-ok");
        await Expect(page.Locator("tr[data-role=viewer-only]")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task Groups_ShowTheTreeWithDeviceCounts_AddAndRemoveAGroup()
    {
        var page = await stack.LogInAsync(_context);
        await page.ClickAsync("nav >> text=Groups");
        await Expect(page.Locator("tr[data-group='plant-1/line-a']")).ToContainTextAsync("1");
        await Expect(page.Locator("tr[data-group='plant-1/line-a'] [data-action=remove]")).ToHaveCountAsync(0);

        await page.FillAsync("#group-path", "bad path");
        await page.ClickAsync("#group-save");
        await Expect(page.Locator("#groups-error")).ToContainTextAsync("path must be group names");

        await page.FillAsync("#group-path", "site-9/hall-2");
        await page.ClickAsync("#group-save");
        var child = page.Locator("tr[data-group='site-9/hall-2']");
        await Expect(child).ToContainTextAsync("0");
        // The parent was created too; it has a subgroup, so it cannot be removed yet.
        await Expect(page.Locator("tr[data-group='site-9'] [data-action=remove]")).ToHaveCountAsync(0);

        await child.Locator("[data-action=remove]").ClickAsync();
        await page.ClickAsync("#confirm-ok");
        await Expect(page.Locator("tr[data-group='site-9/hall-2']")).ToHaveCountAsync(0);
        await page.Locator("tr[data-group='site-9'] [data-action=remove]").ClickAsync();
        await page.ClickAsync("#confirm-ok");
        await Expect(page.Locator("tr[data-group='site-9']")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task RulesAndGroups_ForAReadOnlyUser_ShowNoChangeControls()
    {
        var page = await stack.LogInAsync(_context, ConsoleStack.TechnicianName);
        await Expect(page.Locator("nav >> text=Roles")).ToHaveCountAsync(0);

        await page.ClickAsync("nav >> text=Access rules");
        await Expect(page.Locator("#rules-staged")).ToContainTextAsync("No staged changes");
        await Expect(page.Locator("#stage-form")).ToHaveCountAsync(0);
        await Expect(page.Locator("#commit")).ToHaveCountAsync(0);

        await page.ClickAsync("nav >> text=Groups");
        await Expect(page.Locator("tr[data-group='plant-1/line-a']")).ToBeVisibleAsync();
        await Expect(page.Locator("#group-form")).ToHaveCountAsync(0);
        await Expect(page.Locator("#groups [data-action=remove]")).ToHaveCountAsync(0);

        await page.GotoAsync("/admin/roles");
        await Expect(page.Locator("#missing-permission")).ToHaveTextAsync("users:manage");
    }

    private static async Task RestoreRemoteAccessAsync(IPage page)
    {
        await page.GotoAsync("/admin/remote-access");
        await page.EvaluateAsync(
            """
            async (device) => {
              const token = document.querySelector('meta[name="csrf-token"]').content;
              const headers = { 'Content-Type': 'application/json', RequestVerificationToken: token };
              await fetch('/api/v1/remote-access/discard', { method: 'POST', headers });
              await fetch('/api/v1/remote-access/rules', { method: 'PUT', headers, body: JSON.stringify({ scope: 'device', target: device, enabled: null }) });
              const commit = await fetch('/api/v1/remote-access/commit', { method: 'POST', headers });
              if (!commit.ok) throw new Error('commit failed: ' + commit.status);
            }
            """,
            Gateway);
    }
}
