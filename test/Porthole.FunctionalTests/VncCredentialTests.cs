using System.Globalization;
using Porthole.FunctionalTests.Fixtures;
using Porthole.Tunnel.Relay;

namespace Porthole.FunctionalTests;

/// <summary>
/// A VNC session with a stored password, end to end: the client speaks RFB with security type None only, the
/// server authenticates to a real TigerVNC server through the agent, and the password never leaves the server.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class VncCredentialTests(PortholeStack stack)
{
    [Fact]
    public async Task StoredVncPassword_IsUsedByTheServer_AndTheViewerNeedsNone()
    {
        await using var vnc = await VncServer.StartAsync(VncServer.Flavour.TigerVncAuthOnly);
        var device = await PrepareAsync(vnc, vnc.Password);

        var webSocket = await SessionClient.OpenAsync(stack, device, "hmi", "vnc");
        using (webSocket)
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var (init, firstMessage) = await RfbViewer.ConnectAsync(new DataWebSocketStream(webSocket), cancel.Token);

            Assert.Equal((320, 240), (init.Width, init.Height));
            Assert.Equal(0, firstMessage);
        }

        var audit = await stack.CliOkAsync("audit", "list", "--device", device, "--json");
        Assert.Contains("stored VNC password", audit, StringComparison.Ordinal);
        Assert.DoesNotContain(vnc.Password, audit, StringComparison.Ordinal);
        Assert.DoesNotContain(vnc.Password, stack.Server.CapturedOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongStoredPassword_ReachesTheViewerAsAReadableReason_AndIsAudited()
    {
        await using var vnc = await VncServer.StartAsync(VncServer.Flavour.TigerVncAuthOnly);
        var device = await PrepareAsync(vnc, "not-it");

        var webSocket = await SessionClient.OpenAsync(stack, device, "hmi", "vnc");
        using (webSocket)
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var reason = await RfbViewer.ReadRefusalAsync(new DataWebSocketStream(webSocket), cancel.Token);

            Assert.StartsWith("VNC server rejected the stored password", reason, StringComparison.Ordinal);
        }

        var deadline = DateTime.UtcNow.AddSeconds(20);
        string audit;
        do
        {
            audit = await stack.CliOkAsync("audit", "list", "--device", device, "--action", "session.close", "--json");
        }
        while (!audit.Contains("rejected the stored password", StringComparison.Ordinal) && DateTime.UtcNow < deadline && await Delay());

        Assert.Contains("rejected the stored password", audit, StringComparison.Ordinal);
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(200);
        return true;
    }

    private async Task<string> PrepareAsync(VncServer vnc, string storedPassword)
    {
        var device = "vnc-gw-" + Guid.NewGuid().ToString("N")[..8];
        await stack.StartGatewayAsync(device);
        await stack.CliOkAsync("endpoints", "add", device, "--name", "hmi", "--host", "127.0.0.1", "--port", vnc.Port.ToString(CultureInfo.InvariantCulture), "--protocol", "vnc");
        var set = await stack.CliAsync(["endpoints", "set-credential", $"{device}/hmi", "--kind", "vnc-password", "--password-stdin"], stdin: storedPassword + "\n");
        Assert.True(set.ExitCode == 0, set.ToString());
        return device;
    }
}
