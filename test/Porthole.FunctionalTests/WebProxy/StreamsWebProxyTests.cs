using System.Net;
using System.Security.Cryptography;
using Porthole.Tests.Common.DeviceWeb;

namespace Porthole.FunctionalTests.WebProxy;

/// <summary>A server with <c>Porthole:AgentStreams</c> on, whose gateway carries its sessions on its streams connection.</summary>
public sealed class StreamsWebProxyStack() : WebProxyStack(["--Porthole:AgentStreams=true"]);

/// <summary>
/// The web proxy over the agent's streams connection (docs/design/agent-streams.md): the proxy's connections to the
/// device are streams, and a page and a large download arrive through them as through connections of their own.
/// </summary>
public sealed class StreamsWebProxyTests(StreamsWebProxyStack world) : IClassFixture<StreamsWebProxyStack>
{
    [Fact]
    public async Task PageAndDownload_OverStreams_ArriveIntact()
    {
        await AgentStreamsTests.WakeStreamsAsync(world.Stack, WebProxyStack.Gateway);
        var endpoint = await world.AddEndpointAsync("streams", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        using var page = await browser.Http.GetAsync(session.At("/"));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        using var download = await browser.Http.GetAsync(session.At(DeviceWebSite.DownloadPath), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        await using var stream = await download.Content.ReadAsStreamAsync();
        Assert.Equal(world.Device.DownloadSha256, Convert.ToHexStringLower(await SHA256.HashDataAsync(stream)));

        // The agent carried the proxy's connections as streams.
        await world.EndWebSessionsAsync();
        Assert.Contains("carried as stream", world.Agent.CapturedOutput, StringComparison.Ordinal);
    }
}
