using System.Net;

namespace Porthole.FunctionalTests.WebProxy;

/// <summary>
/// Web sessions end by themselves (docs/design/web-proxy.md, "Lifetime"): after the configured idle time without a
/// request, and after the maximum lifetime however busy they are; the end is audited.
/// </summary>
public sealed class WebSessionLifetimeTests(ShortLivedWebProxyStack world) : IClassFixture<ShortLivedWebProxyStack>, IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => world.EndWebSessionsAsync();

    [Fact]
    public async Task IdleSession_StaysOpenWhileUsed_AndEndsAfterTheIdleTimeout()
    {
        var endpoint = await world.AddEndpointAsync("idle", world.Device.Http10Port);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        // Requests 2.5 s apart span more than the 4 s idle timeout: each one keeps the session alive.
        for (var i = 0; i < 3; i++)
        {
            using var used = await browser.Http.GetAsync(session.At("/"));
            Assert.Equal(HttpStatusCode.OK, used.StatusCode);
            await Task.Delay(TimeSpan.FromSeconds(2.5));
        }

        await Task.Delay(TimeSpan.FromSeconds(3));
        using var idle = await browser.Http.GetAsync(session.At("/"));

        Assert.False(idle.IsSuccessStatusCode, $"still {(int)idle.StatusCode} after 5.5 s idle");
        Assert.DoesNotContain("Old device", await idle.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await AssertClosedInAuditAsync(session);
    }

    [Fact]
    public async Task ALongRequest_CountsAsActivity_SoTheSessionOutlivesIt()
    {
        var endpoint = await world.AddEndpointAsync("long", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        // A 6 s response (a slow firmware flash, a live event stream) on a session with a 4 s idle timeout.
        var events = await WebProxyClient.ReadEventsAsync(browser.Http, session.At("/events?count=7&intervalMs=1000").ToString());
        Assert.Equal(7, events.Count);

        using var next = await browser.Http.GetAsync(session.At("/"));
        Assert.True(next.StatusCode == HttpStatusCode.OK, $"the session ended during its own 6 s request: {(int)next.StatusCode}");
    }

    /// <remarks>
    /// A live front panel talks over its WebSocket and makes no HTTP request for a long time; the design counts
    /// idleness in requests, and this test states that WebSocket traffic is use of the session as well.
    /// </remarks>
    [Fact]
    public async Task WebSocketTraffic_CountsAsActivity_SoALivePanelKeepsItsSession()
    {
        var endpoint = await world.AddEndpointAsync("panel", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        using var socket = await browser.ConnectWebSocketAsync(new UriBuilder(session.At("/ws")) { Scheme = "wss" }.Uri, session.Origin.GetLeftPart(UriPartial.Authority));

        for (var i = 0; i < 7; i++)
        {
            Assert.Equal($"frame {i}", await WebProxyClient.EchoAsync(socket, $"frame {i}"));
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        using var next = await browser.Http.GetAsync(session.At("/"));
        Assert.True(next.StatusCode == HttpStatusCode.OK, $"the session ended while its WebSocket was in use: {(int)next.StatusCode}");
    }

    [Fact]
    public async Task LivePanel_WebSocket_IsClosedAtTheMaximumLifetime()
    {
        var endpoint = await world.AddEndpointAsync("panel-max", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        using var socket = await browser.ConnectWebSocketAsync(new UriBuilder(session.At("/ws")) { Scheme = "wss" }.Uri, session.Origin.GetLeftPart(UriPartial.Authority));
        var opened = DateTime.UtcNow;

        // Only WebSocket traffic, no requests: the server's sweeper must end the session (it looks every 15 s).
        var closed = false;
        while (!closed && DateTime.UtcNow - opened < TimeSpan.FromSeconds(45))
        {
            try
            {
                closed = await WebProxyClient.EchoAsync(socket, "tick") != "tick";
            }
            catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or OperationCanceledException)
            {
                closed = true;
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        Assert.True(closed, "the WebSocket outlived its session's 15 s maximum lifetime by 30 s");
        Assert.True(DateTime.UtcNow - opened > TimeSpan.FromSeconds(13), "closed before the maximum lifetime");
    }

    [Fact]
    public async Task BusySession_EndsAtItsMaximumLifetime()
    {
        var endpoint = await world.AddEndpointAsync("busy", world.Device.Http10Port);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        var opened = DateTime.UtcNow;

        HttpStatusCode status;
        do
        {
            using var response = await browser.Http.GetAsync(session.At("/"));
            status = response.StatusCode;
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        while (status == HttpStatusCode.OK && DateTime.UtcNow - opened < TimeSpan.FromSeconds(40));

        var lived = DateTime.UtcNow - opened;
        Assert.NotEqual(HttpStatusCode.OK, status);
        Assert.InRange(lived, TimeSpan.FromSeconds(13), TimeSpan.FromSeconds(25));
        await AssertClosedInAuditAsync(session);
    }

    private async Task AssertClosedInAuditAsync(WebSession session)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        string audit;
        do
        {
            audit = await world.Stack.CliOkAsync("audit", "list", "--device", WebProxyStack.Gateway, "--action", "session.close", "--json");
        }
        while (!audit.Contains(session.Id, StringComparison.Ordinal) && DateTime.UtcNow < deadline && await Pause());

        Assert.Contains(session.Id, audit, StringComparison.Ordinal);
    }

    private static async Task<bool> Pause()
    {
        await Task.Delay(300);
        return true;
    }
}
