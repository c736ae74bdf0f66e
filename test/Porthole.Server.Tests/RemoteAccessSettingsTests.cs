using System.Net;
using Porthole.Protocol.Api;
using Porthole.Server.Data;
using Porthole.Server.Devices;
using Porthole.Server.RemoteAccess;
using Porthole.Server.Tests.Support;

namespace Porthole.Server.Tests;

/// <summary>Precedence of remote-access rules (agent, device, tag, group, global, default) and staging with commit.</summary>
public sealed class RemoteAccessSettingsTests : IAsyncLifetime
{
    private static readonly DeviceGroup Plant = new() { Id = "g-plant", Name = "plant" };
    private static readonly DeviceGroup Line = new() { Id = "g-line", Name = "line", ParentId = "g-plant" };
    private static readonly GroupTree Groups = new([Plant, Line]);

    private InProcessServer _server = null!;
    private HttpClient _admin = null!;

    private static Device DeviceInLine(params string[] tags)
    {
        var device = new Device { Id = "dev", Name = "dev", GroupId = Line.Id };
        device.Tags.AddRange(tags.Select(t => new DeviceTag { DeviceId = "dev", Tag = t }));
        return device;
    }

    private static RemoteAccessRule Rule(string scope, string target, bool enabled) => new() { Scope = scope, Target = target, Enabled = enabled, UpdatedBy = "t" };

    public static TheoryData<string, bool, string> Cases => new()
    {
        // rules as scope:target=on|off; expected enabled; expected source
        { "", true, "default" },
        { "global:=off", false, "global" },
        { "global:=off group:g-plant=on", true, "group plant" },
        { "group:g-plant=off group:g-line=on", true, "group plant/line" },
        { "group:g-line=off tag:a=on", true, "tag a" },
        { "tag:a=on tag:b=off", false, "tag b" },
        { "tag:b=off device:dev=on", true, "device dev" },
        { "global:=on device:dev=off", false, "device dev" },
        { "staged-device:dev=off", true, "default" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Evaluate_AppliesDocumentedPrecedence(string rules, bool enabled, string source)
    {
        var parsed = rules.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(r =>
        {
            var staged = r.StartsWith("staged-", StringComparison.Ordinal);
            var (scopeTarget, value) = (r.Replace("staged-", "", StringComparison.Ordinal).Split('=')[0], r.Split('=')[1]);
            var rule = Rule(scopeTarget.Split(':')[0], scopeTarget.Split(':')[1], value == "on");
            rule.Staged = staged;
            return rule;
        }).ToList();

        var effective = EffectiveRemoteAccess.Evaluate(DeviceInLine("a", "b"), agentEnabled: true, parsed, Groups);

        Assert.Equal((enabled, source), (effective.Enabled, effective.Source));
    }

    [Fact]
    public void Evaluate_AgentKillSwitch_OverridesEverything()
    {
        var effective = EffectiveRemoteAccess.Evaluate(DeviceInLine(), agentEnabled: false, [Rule("device", "dev", true)], Groups);

        Assert.Equal((false, "agent"), (effective.Enabled, effective.Source));
    }

    public async Task InitializeAsync()
    {
        _server = await InProcessServer.StartAsync();
        _admin = _server.Client(await _server.AdminTokenAsync());
        await _admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices", new CreateDeviceRequest("press-1", "plant-2/hall"));
        await _admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices/press-1/endpoints", new CreateEndpointRequest("ssh", "127.0.0.1", 22, "ssh"));
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _server.DisposeAsync();
    }

    private async Task<DeviceDto> ShowAsync() => Api.Read<DeviceDto>(await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/devices/press-1"));

    [Fact]
    public async Task StagedRule_TakesEffectOnlyOnCommit_AndRefusesSessionsWithTheReason()
    {
        await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Put, "/api/v1/remote-access/rules", new StageRuleRequest("group", "plant-2", false));
        Assert.True((await ShowAsync()).RemoteAccessEnabled);

        await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, "/api/v1/remote-access/commit");

        var device = await ShowAsync();
        Assert.False(device.RemoteAccessEnabled);
        Assert.Equal("group plant-2", device.RemoteAccessSource);
        var refusal = await _admin.ExpectAsync(HttpStatusCode.Conflict, HttpMethod.Post, "/api/v1/sessions", new CreateSessionRequest("press-1", "ssh"));
        Assert.Contains("disabled by group plant-2", refusal, StringComparison.Ordinal);

        // A device rule overrides its group; removing it hands control back.
        await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Put, "/api/v1/remote-access/rules", new StageRuleRequest("device", "press-1", true));
        await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, "/api/v1/remote-access/commit");
        Assert.Equal("device press-1", (await ShowAsync()).RemoteAccessSource);
        await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Put, "/api/v1/remote-access/rules", new StageRuleRequest("device", "press-1", null));
        await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, "/api/v1/remote-access/commit");
        Assert.Equal("group plant-2", (await ShowAsync()).RemoteAccessSource);

        var rules = Api.Read<List<RemoteAccessRuleDto>>(await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/remote-access/rules"));
        var only = Assert.Single(rules);
        Assert.Equal(("group", "plant-2", false, false), (only.Scope, only.Target, only.Enabled, only.Staged));
        var audit = Api.Read<AuditPage>(await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/audit?action=remote-access"));
        Assert.Equal(3, audit.Entries.Count(e => e.Action == "remote-access.commit"));
    }

    [Fact]
    public async Task Discard_DropsStagedChanges()
    {
        await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Put, "/api/v1/remote-access/rules", new StageRuleRequest("global", null, false));

        var discarded = Api.Read<CommitResponse>(await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, "/api/v1/remote-access/discard"));

        Assert.Equal(1, discarded.Applied);
        Assert.Equal("default", (await ShowAsync()).RemoteAccessSource);
    }

    [Theory]
    [InlineData("planet", "x", HttpStatusCode.BadRequest)]
    [InlineData("group", "no/such/group", HttpStatusCode.NotFound)]
    [InlineData("device", "no-such-device", HttpStatusCode.NotFound)]
    [InlineData("tag", "bad tag!", HttpStatusCode.BadRequest)]
    public async Task Stage_WithBadScopeOrTarget_IsRefusedAndStagesNothing(string scope, string target, HttpStatusCode expected)
    {
        await _admin.ExpectAsync(expected, HttpMethod.Put, "/api/v1/remote-access/rules", new StageRuleRequest(scope, target, false));

        Assert.Empty(Api.Read<List<RemoteAccessRuleDto>>(await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/remote-access/rules")));
    }
}
