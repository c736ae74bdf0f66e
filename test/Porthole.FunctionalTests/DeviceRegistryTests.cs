using System.Text.Json;
using Porthole.FunctionalTests.Fixtures;
using Porthole.Protocol.Api;

namespace Porthole.FunctionalTests;

/// <summary>Registering gateways, enrolling agents and managing endpoints through the CLI.</summary>
[Collection(StackCollection.Name)]
public sealed class DeviceRegistryTests(PortholeStack stack)
{
    private static string NewName(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task DevicesAdd_WithJson_PrintsIdAndEnrolmentToken()
    {
        var name = NewName("json");

        var output = await stack.CliOkAsync("devices", "add", name, "--group", "plant-1", "--tag", "line-a", "--tag", "hmi", "--json");

        using var json = JsonDocument.Parse(output);
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("id").GetString()));
        Assert.StartsWith("pte_", json.RootElement.GetProperty("enrolmentToken").GetString(), StringComparison.Ordinal);
        var shown = await stack.ShowDeviceAsync(name);
        Assert.Equal("plant-1", shown.Group);
        Assert.Equal(["hmi", "line-a"], shown.Tags);
        Assert.False(shown.Online);
        Assert.False(shown.Enrolled);
    }

    [Fact]
    public async Task DevicesAdd_WithoutJson_PrintsTheAgentCommand()
    {
        var name = NewName("human");

        var output = await stack.CliOkAsync("devices", "add", name);

        Assert.Contains("porthole-agent enrol --server", output, StringComparison.Ordinal);
        Assert.Contains("pte_", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DevicesList_ShowsOnlineStateAgentVersionAndRemoteAccess()
    {
        var online = NewName("online");
        var offline = NewName("offline");
        await stack.StartGatewayAsync(online);
        await stack.RegisterDeviceAsync(offline);

        var devices = JsonSerializer.Deserialize(await stack.CliOkAsync("devices", "list", "--json"), ApiJsonContext.Default.ListDeviceDto)!;

        var up = Assert.Single(devices, d => d.Name == online);
        Assert.True(up.Online);
        Assert.True(up.Enrolled);
        Assert.True(up.RemoteAccessEnabled);
        Assert.False(string.IsNullOrEmpty(up.AgentVersion));
        Assert.NotNull(up.LastSeenAt);
        var down = Assert.Single(devices, d => d.Name == offline);
        Assert.False(down.Online);

        var table = await stack.CliOkAsync("devices", "list");
        Assert.Contains(online, table, StringComparison.Ordinal);
        Assert.Contains(offline, table, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DevicesAdd_WithDuplicateName_FailsClearly()
    {
        var name = NewName("dup");
        await stack.RegisterDeviceAsync(name);

        var result = await stack.CliAsync(["devices", "add", name]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("already exists", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enrol_WithUsedToken_IsRefused()
    {
        var name = NewName("once");
        var token = await stack.RegisterDeviceAsync(name);
        using var state = new TempDirectory("porthole-enrol");
        string[] enrol = ["enrol", "--server", stack.ServerUrl.ToString(), "--token", token, "--state-dir", state.Path, "--fingerprint", stack.Fingerprint];

        var first = await ProcessRunner.RunAsync(Binaries.Agent, enrol, timeout: TimeSpan.FromSeconds(60));
        var second = await ProcessRunner.RunAsync(Binaries.Agent, [.. enrol[..^4], "--state-dir", state.Combine("again"), "--fingerprint", stack.Fingerprint], timeout: TimeSpan.FromSeconds(60));

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("unknown, already used or expired", second.StandardError, StringComparison.Ordinal);
        var credential = new FileInfo(state.Combine("agent.json"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, credential.UnixFileMode);
    }

    [Fact]
    public async Task Login_StoresConfigReadableOnlyByOwner()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, new FileInfo(stack.ConfigPath).UnixFileMode);
        Assert.DoesNotContain(PortholeStack.AdminPassword, await File.ReadAllTextAsync(stack.ConfigPath), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Endpoints_AddListShowUpdateRemove()
    {
        var device = NewName("endpoints");
        await stack.RegisterDeviceAsync(device);

        await stack.CliOkAsync("endpoints", "add", device, "--name", "hmi", "--host", "192.168.1.20", "--port", "5900", "--protocol", "vnc", "--description", "Press HMI");
        var listed = JsonSerializer.Deserialize(await stack.CliOkAsync("endpoints", "list", device, "--json"), ApiJsonContext.Default.ListEndpointDto)!;
        var hmi = Assert.Single(listed);
        Assert.Equal(("hmi", "192.168.1.20", 5900, "vnc", "Press HMI"), (hmi.Name, hmi.Host, hmi.Port, hmi.Protocol, hmi.Description));

        await stack.CliOkAsync("endpoints", "update", $"{device}/hmi", "--port", "5901", "--name", "panel");
        var shown = JsonSerializer.Deserialize(await stack.CliOkAsync("endpoints", "show", $"{device}/panel", "--json"), ApiJsonContext.Default.EndpointDto)!;
        Assert.Equal(5901, shown.Port);
        Assert.Equal("192.168.1.20", shown.Host);

        await stack.CliOkAsync("endpoints", "remove", $"{device}/panel");
        var afterRemove = await stack.CliAsync(["endpoints", "show", $"{device}/panel"]);
        Assert.Equal(1, afterRemove.ExitCode);
        Assert.Contains("has no endpoint 'panel'", afterRemove.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Endpoints_SetCredential_IsWriteOnlyAndClearable()
    {
        const string Secret = "Xy!vnc-secret9";
        var device = NewName("vault");
        await stack.RegisterDeviceAsync(device);
        await stack.CliOkAsync("endpoints", "add", device, "--name", "hmi", "--host", "127.0.0.1", "--port", "5900", "--protocol", "vnc");

        var set = await stack.CliAsync(["endpoints", "set-credential", $"{device}/hmi", "--kind", "vnc-password", "--password-stdin"], stdin: Secret + "\n");
        Assert.True(set.ExitCode == 0, set.ToString());

        var shown = await stack.CliOkAsync("endpoints", "show", $"{device}/hmi", "--json");
        Assert.Equal("vnc-password", JsonSerializer.Deserialize(shown, ApiJsonContext.Default.EndpointDto)!.Credential?.Kind);
        Assert.DoesNotContain(Secret, shown + set.StandardOutput + set.StandardError, StringComparison.Ordinal);

        var wrongKind = await stack.CliAsync(["endpoints", "set-credential", $"{device}/hmi", "--kind", "ssh-password", "--username", "u", "--password-stdin"], stdin: "x\n");
        Assert.Equal(1, wrongKind.ExitCode);
        Assert.Contains("does not fit", wrongKind.StandardError, StringComparison.Ordinal);

        await stack.CliOkAsync("endpoints", "clear-credential", $"{device}/hmi");
        Assert.Null(JsonSerializer.Deserialize(await stack.CliOkAsync("endpoints", "show", $"{device}/hmi", "--json"), ApiJsonContext.Default.EndpointDto)!.Credential);
    }

    [Theory]
    [InlineData("--port", "70000", "port must be between 1 and 65535")]
    [InlineData("--protocol", "rdp", "rdp")]
    [InlineData("--host", "http://x", "host must be")]
    public async Task EndpointsAdd_WithBadInput_ExplainsAndStoresNothing(string option, string value, string message)
    {
        var device = NewName("bad");
        await stack.RegisterDeviceAsync(device);
        var arguments = new Dictionary<string, string> { ["--name"] = "e", ["--host"] = "127.0.0.1", ["--port"] = "22", ["--protocol"] = "ssh" };
        arguments[option] = value;

        var result = await stack.CliAsync(["endpoints", "add", device, .. arguments.SelectMany(a => new[] { a.Key, a.Value })]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.StandardError, StringComparison.Ordinal);
        Assert.Equal("[]", (await stack.CliOkAsync("endpoints", "list", device, "--json")).Trim());
    }

    [Fact]
    public async Task DevicesRemove_DisconnectsTheAgentWhichStopsRetrying()
    {
        var device = NewName("removed");
        var gateway = await stack.StartGatewayAsync(device);

        await stack.CliOkAsync("devices", "remove", device);

        var exit = await gateway.Agent.RunToEndAsync(timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(3, exit.ExitCode);
        Assert.Contains("rejected this device's credential", exit.StandardError, StringComparison.Ordinal);
    }
}
