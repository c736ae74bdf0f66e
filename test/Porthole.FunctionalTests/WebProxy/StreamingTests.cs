using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json;
using Porthole.Tests.Common.DeviceWeb;
using Xunit.Abstractions;

namespace Porthole.FunctionalTests.WebProxy;

/// <summary>
/// Bodies and connections that must stream (docs/design/web-proxy.md, "Streaming" and "Connections"): a 100 MB
/// firmware upload and a 64 MiB download arrive intact without the server holding them, WebSockets and server-sent
/// events pass through, and keep-alive connections to the device are reused.
/// </summary>
[Collection(WebProxyCollection.Name)]
public sealed class StreamingTests(WebProxyStack world, ITestOutputHelper output) : IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => world.EndWebSessionsAsync();

    /// <summary>Generous: the upload is 100 MB, and a proxy that buffers it would need at least that much more.</summary>
    private const long MemoryCeiling = 200L * 1024 * 1024;

    [Fact]
    public async Task Upload_Of100MB_ArrivesIntact_AndTheServersMemoryStaysBounded()
    {
        var endpoint = await world.AddEndpointAsync("upload", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        var pid = world.Stack.Server.Id;
        (await browser.Http.GetAsync(session.At("/"))).Dispose();
        var baseline = ProcessMemory.Rss(pid);
        var peakReset = ProcessMemory.ResetPeak(pid);
        var content = new RandomContent(100L * 1000 * 1000, seed: 7);
        var expected = content.Sha256;

        long sampledPeak = 0;
        using var stopSampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stopSampling.IsCancellationRequested)
            {
                sampledPeak = Math.Max(sampledPeak, ProcessMemory.Rss(pid));
                await Task.Delay(50);
            }
        });
        var stopwatch = Stopwatch.StartNew();
        using var response = await browser.Http.PostAsync(session.At("/upload"), content);
        var elapsed = stopwatch.Elapsed;
        await stopSampling.CancelAsync();
        await sampler;

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"upload: {(int)response.StatusCode} {body}");
        var received = JsonDocument.Parse(body).RootElement;
        Assert.Equal(content.Length, received.GetProperty("bytes").GetInt64());
        Assert.Equal(expected, received.GetProperty("sha256").GetString());

        var peak = Math.Max(sampledPeak, peakReset ? ProcessMemory.Peak(pid) : 0);
        output.WriteLine($"upload of 100 MB in {elapsed.TotalSeconds:0.0} s; server RSS {baseline / 1048576} MiB before, peak {peak / 1048576} MiB (VmHWM reset: {peakReset})");
        Assert.True(peak - baseline < MemoryCeiling, $"server RSS grew by {(peak - baseline) / 1048576} MiB during a 100 MB upload (ceiling {MemoryCeiling / 1048576} MiB)");

        // The request log counts the streamed body.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        JsonElement? entry = null;
        while (entry is null && DateTime.UtcNow < deadline)
        {
            var log = JsonDocument.Parse(await world.Api.GetStringAsync($"/api/v1/web-sessions/{session.Id}/requests")).RootElement;
            entry = log.EnumerateArray().Where(e => e.GetProperty("method").GetString() == "POST").Cast<JsonElement?>().FirstOrDefault();
            if (entry is null)
            {
                await Task.Delay(300);
            }
        }

        Assert.True(entry is not null, "the upload is not in the request log");
        Assert.True(entry.Value.GetProperty("bytesIn").GetInt64() >= content.Length || entry.Value.GetProperty("bytesOut").GetInt64() >= content.Length, "the request log does not count the upload's bytes: " + entry);
    }

    [Fact]
    public async Task Download_Of64MiB_ArrivesIntact()
    {
        var endpoint = await world.AddEndpointAsync("download", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        using var response = await browser.Http.GetAsync(session.At(DeviceWebSite.DownloadPath), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(DeviceWebSite.DownloadLength, response.Content.Headers.ContentLength);
        await using var stream = await response.Content.ReadAsStreamAsync();

        Assert.Equal(world.Device.DownloadSha256, Convert.ToHexStringLower(await SHA256.HashDataAsync(stream)));
    }

    [Fact]
    public async Task WebSocket_EchoesThroughTheSessionOrigin()
    {
        var endpoint = await world.AddEndpointAsync("ws", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        var url = new UriBuilder(session.At("/ws")) { Scheme = "wss" }.Uri;

        using var socket = await browser.ConnectWebSocketAsync(url, origin: session.Origin.GetLeftPart(UriPartial.Authority));

        Assert.Equal("hello device", await WebProxyClient.EchoAsync(socket, "hello device"));
        var large = new string('x', 200_000);
        Assert.Equal(large, await WebProxyClient.EchoAsync(socket, large));
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cancel.Token);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    [Fact]
    public async Task WebSocket_Upgrade_ReachesTheDeviceWithItsOwnHostAndOrigin()
    {
        var endpoint = await world.AddEndpointAsync("ws-hello", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        var url = new UriBuilder(session.At("/ws?hello=1")) { Scheme = "wss" }.Uri;

        using var socket = await browser.ConnectWebSocketAsync(url, origin: session.Origin.GetLeftPart(UriPartial.Authority));

        var buffer = new byte[4096];
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var received = await socket.ReceiveAsync(buffer, cancel.Token);
        var hello = JsonDocument.Parse(buffer.AsMemory(0, received.Count)).RootElement;
        Assert.Equal($"127.0.0.1:{world.Device.HttpPort}", hello.GetProperty("host").GetString());
        Assert.Equal(world.Device.HttpOrigin, hello.GetProperty("origin").GetString());
    }

    [Fact]
    public async Task ConcurrentRequests_OfOnePage_AllSucceed()
    {
        var endpoint = await world.AddEndpointAsync("parallel", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        string[] paths = ["/", "/links.html", "/app.js", "/headers", "/login", "/basic/"];

        // A browser loading a page with many resources: more requests at once than pooled connections (6).
        var responses = await Task.WhenAll(Enumerable.Range(0, 24).Select(async i =>
        {
            using var response = await browser.Http.GetAsync(session.At($"{paths[i % paths.Length]}?n={i}"));
            await response.Content.ReadAsByteArrayAsync();
            return (Path: paths[i % paths.Length], Status: (int)response.StatusCode);
        }));

        Assert.All(responses, r => Assert.Equal(r.Path == "/basic/" ? 401 : 200, r.Status));
    }

    [Fact]
    public async Task WebSocket_ToAnHttpsDevice_Echoes()
    {
        var endpoint = await world.AddEndpointAsync("wss", world.Device.HttpsPort, "https");
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        var url = new UriBuilder(session.At("/ws")) { Scheme = "wss" }.Uri;

        using var socket = await browser.ConnectWebSocketAsync(url, origin: session.Origin.GetLeftPart(UriPartial.Authority));

        Assert.Equal("over tls", await WebProxyClient.EchoAsync(socket, "over tls"));
    }

    [Fact]
    public async Task EndingTheSession_ClosesItsOpenWebSocket()
    {
        var endpoint = await world.AddEndpointAsync("ws-end", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        var url = new UriBuilder(session.At("/ws")) { Scheme = "wss" }.Uri;
        using var socket = await browser.ConnectWebSocketAsync(url, origin: session.Origin.GetLeftPart(UriPartial.Authority));
        Assert.Equal("before", await WebProxyClient.EchoAsync(socket, "before"));

        using (var deleted = await world.Api.DeleteAsync($"/api/v1/sessions/{session.Id}"))
        {
            Assert.True(deleted.IsSuccessStatusCode, $"DELETE: {(int)deleted.StatusCode}");
        }

        // The device connection under the WebSocket belongs to the web session: it closes with it, so the browser's
        // WebSocket sees a close (or an abort), neither an echo from the device nor silence.
        await Task.Delay(TimeSpan.FromSeconds(1));
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        string outcome;
        try
        {
            await socket.SendAsync("after"u8.ToArray(), WebSocketMessageType.Text, true, cancel.Token);
            var buffer = new byte[1024];
            var result = await socket.ReceiveAsync(buffer, cancel.Token);
            outcome = result.MessageType == WebSocketMessageType.Close ? "closed" : "still echoes: " + System.Text.Encoding.UTF8.GetString(buffer, 0, result.Count);
        }
        catch (WebSocketException)
        {
            outcome = "closed";
        }
        catch (OperationCanceledException)
        {
            outcome = "neither closed nor answering after 15 s";
        }

        Assert.True(outcome == "closed", $"the WebSocket of an ended web session {outcome}");
    }

    [Fact]
    public async Task UploadAndDownload_ThroughAnHttpsDevice_ArriveIntact()
    {
        var endpoint = await world.AddEndpointAsync("tls-stream", world.Device.HttpsPort, "https");
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        var content = new RandomContent(30_000_000, seed: 13);

        using var upload = await browser.Http.PostAsync(session.At("/upload"), content);
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        Assert.Equal(content.Sha256, JsonDocument.Parse(await upload.Content.ReadAsStringAsync()).RootElement.GetProperty("sha256").GetString());

        using var download = await browser.Http.GetAsync(session.At(DeviceWebSite.DownloadPath), HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await download.Content.ReadAsStreamAsync();
        Assert.Equal(world.Device.DownloadSha256, Convert.ToHexStringLower(await SHA256.HashDataAsync(stream)));
    }

    [Fact]
    public async Task Upload_WithExpect100Continue_ArrivesIntact()
    {
        var endpoint = await world.AddEndpointAsync("expect", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        var content = new RandomContent(10_000_000, seed: 11);
        using var request = new HttpRequestMessage(HttpMethod.Post, session.At("/upload")) { Content = content };
        request.Headers.ExpectContinue = true;

        using var response = await browser.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content.Sha256, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task ManySlowRequestsAtOnce_UseAtMostSixConnectionsToTheDevice()
    {
        var endpoint = await world.AddEndpointAsync("cap", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        var marker = Guid.NewGuid().ToString("N")[..8];

        // Ten event streams of about a second each, all at once: the pool holds six, the rest wait their turn.
        var streams = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            WebProxyClient.ReadEventsAsync(browser.Http, session.At($"/events?count=2&intervalMs=1000&m={marker}&i={i}").ToString())));

        Assert.All(streams, events => Assert.Equal(["tick 1", "tick 2"], events.Select(e => e.Data)));
        var connections = world.Device.Nginx.AccessLog().Where(l => l.Contains(" /events ", StringComparison.Ordinal)).ToList();
        var ours = connections.TakeLast(10).Select(l => l.Split(' ')[0]).Distinct().Count();
        Assert.InRange(ours, 1, 6);
    }

    [Fact]
    public async Task WebSocket_WithoutTheSessionCookie_IsRefused()
    {
        var endpoint = await world.AddEndpointAsync("ws-anon", world.Device.HttpPort);
        var session = await world.OpenWebSessionAsync(endpoint);
        using var stranger = new WebProxyClient(world.Stack);
        var url = new UriBuilder(session.At("/ws")) { Scheme = "wss" }.Uri;

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => stranger.ConnectWebSocketAsync(url, origin: null));

        Assert.Contains("401", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerSentEvents_ArriveOneByOne_NotInOneBurstAtTheEnd()
    {
        var endpoint = await world.AddEndpointAsync("sse", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        var events = await WebProxyClient.ReadEventsAsync(browser.Http, session.At("/events?count=5&intervalMs=500").ToString());

        Assert.Equal(["tick 1", "tick 2", "tick 3", "tick 4", "tick 5"], events.Select(e => e.Data));
        // 2 s from the first event to the last; a buffered response would deliver them together.
        Assert.True(events[^1].At - events[0].At > TimeSpan.FromSeconds(1.2), $"events spread over {(events[^1].At - events[0].At).TotalMilliseconds:0} ms only");
    }

    [Fact]
    public async Task SequentialRequests_ReuseKeptAliveConnectionsToTheDevice()
    {
        var endpoint = await world.AddEndpointAsync("keepalive", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        var marker = "/keepalive-" + Guid.NewGuid().ToString("N")[..8];

        for (var i = 0; i < 10; i++)
        {
            using var response = await browser.Http.GetAsync(session.At(marker));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        // nginx numbers its TCP connections; the ten requests should have shared very few of them.
        var connections = world.Device.Nginx.AccessLog().Where(l => l.Contains(marker, StringComparison.Ordinal)).Select(l => l.Split(' ')[0]).ToList();
        Assert.Equal(10, connections.Count);
        Assert.True(connections.Distinct().Count() <= 2, $"10 sequential requests used {connections.Distinct().Count()} connections to the device");
    }
}
