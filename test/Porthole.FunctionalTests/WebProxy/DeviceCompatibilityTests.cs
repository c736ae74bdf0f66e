using System.IO.Compression;
using System.Net;
using System.Text.Json.Nodes;
using Porthole.Tests.Common.DeviceWeb;

namespace Porthole.FunctionalTests.WebProxy;

/// <summary>
/// What odd embedded servers need (docs/design/web-proxy.md, "HTTPS devices", "Connections", "Response rewriting",
/// "Security headers"): a self-signed certificate pinned on first use and a changed one refused; an HTTP/1.0 server
/// that closes after every response; absolute links to the device's own address; headers that keep other origins out.
/// </summary>
[Collection(WebProxyCollection.Name)]
public sealed class DeviceCompatibilityTests(WebProxyStack world) : IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => world.EndWebSessionsAsync();

    [Fact]
    public async Task HttpsDevice_IsPinnedOnFirstUse_ThenAChangedCertificateIsRefused_UntilForgotten()
    {
        var device = world.Device;
        var endpoint = await world.AddEndpointAsync("tls", device.HttpsPort, "https");
        using var browser = new WebProxyClient(world.Stack);
        var first = await world.EnterWebSessionAsync(browser, endpoint);

        using (var page = await browser.Http.GetAsync(first.At("/")))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("Test device", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            // The device's HSTS would stick to a host name that is not the device's.
            Assert.False(page.Headers.Contains("Strict-Transport-Security"), "Strict-Transport-Security passed through");
            Assert.False(page.Headers.Contains("Alt-Svc"), "Alt-Svc passed through");
        }

        var pinned = device.Certificate;
        var shown = await world.Api.GetStringAsync($"/api/v1/devices/{WebProxyStack.Gateway}/endpoints/{endpoint}");
        Assert.True(ContainsFingerprint(shown, pinned), $"the endpoint does not show the pinned certificate {pinned.Sha256}: {shown}");

        // The device comes back with another certificate (factory reset, or someone in between). The open session's
        // next connection meets it: a page naming both fingerprints instead of the device's.
        var replaced = await device.ReplaceHttpsCertificateAsync();
        using (var refused = await browser.Http.GetAsync(first.At("/")))
        {
            var page = await refused.Content.ReadAsStringAsync();
            Assert.False(refused.IsSuccessStatusCode, $"a changed certificate was accepted: {(int)refused.StatusCode}");
            Assert.True(ContainsFingerprint(page, pinned) && ContainsFingerprint(page, replaced), "the refusal does not name both fingerprints: " + page);
            Assert.DoesNotContain("Test device", page, StringComparison.Ordinal);
        }

        // A new web session is refused too: at once (the server connects before handing out the URL) or on its page.
        using (var create = await world.RequestWebSessionAsync(endpoint))
        {
            var answer = await create.Content.ReadAsStringAsync();
            if (create.IsSuccessStatusCode)
            {
                using var other = new WebProxyClient(world.Stack);
                using var enter = await other.GetAsync(WebSession.Parse(answer).Url);
                using var page = await other.Http.GetAsync(WebSession.Parse(answer).At("/"));
                answer = await page.Content.ReadAsStringAsync();
                Assert.False(page.IsSuccessStatusCode, $"a changed certificate was accepted for a new session: {(int)page.StatusCode}");
            }

            Assert.True(ContainsFingerprint(answer, pinned) && ContainsFingerprint(answer, replaced), "the refusal of a new session does not name both fingerprints: " + answer);
        }

        var audit = await world.Stack.CliOkAsync("audit", "list", "--device", WebProxyStack.Gateway, "--json");
        Assert.True(ContainsFingerprint(audit, replaced), "the refused certificate is not in the audit log");

        await world.Stack.CliOkAsync("endpoints", "forget-host-key", $"{WebProxyStack.Gateway}/{endpoint}");
        var third = await world.EnterWebSessionAsync(browser, endpoint);
        using var accepted = await browser.Http.GetAsync(third.At("/"));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        shown = await world.Api.GetStringAsync($"/api/v1/devices/{WebProxyStack.Gateway}/endpoints/{endpoint}");
        Assert.True(ContainsFingerprint(shown, replaced), $"the endpoint does not show the newly pinned certificate: {shown}");
    }

    [Fact]
    public async Task Http10Device_ServesEveryPage_AcrossSeveralRequests()
    {
        var endpoint = await world.AddEndpointAsync("old", world.Device.Http10Port);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        for (var round = 0; round < 2; round++)
        {
            Assert.Contains("Old device", await browser.Http.GetStringAsync(session.At("/")), StringComparison.Ordinal);
            for (var i = 0; i < Http10Server.Pages.Count; i++)
            {
                using var page = await browser.Http.GetAsync(session.At(Http10Server.Pages[i]));
                Assert.Equal(HttpStatusCode.OK, page.StatusCode);
                Assert.Contains($"Page {i + 1}", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }

        using var missing = await browser.Http.GetAsync(session.At("/missing.html"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task AncientDevice_WithoutContentLengthOrWithBareLineFeeds_ServesWholePages()
    {
        var endpoint = await world.AddEndpointAsync("ancient", world.Device.Ancient.Port);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        foreach (var path in new[] { "/", "/status.html", "/lf/status.html", "/status.html" })
        {
            using var page = await browser.Http.GetAsync(session.At(path));
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal(AncientHttpDevice.Body(path), await page.Content.ReadAsStringAsync());
        }
    }

    /// <remarks>
    /// Devices route on their exact paths: LuCI's <c>;stok=</c> segments, an encoded slash inside a segment. (Unreserved
    /// characters such as <c>%7E</c> may legitimately be normalised, RFC 3986 section 6.2.2.2, so none is used here.)
    /// </remarks>
    [Theory]
    [InlineData("/echo/cgi-bin/luci/;stok=0123abcd/admin/status")]
    [InlineData("/echo/a%2Fb/c%20d")]
    [InlineData("/echo/form?name=a%26b&empty=&flag")]
    [InlineData("/echo/caf%C3%A9/menu")]
    public async Task RequestTarget_ReachesTheDeviceAsTheBrowserSentIt(string target)
    {
        var endpoint = await world.AddEndpointAsync("target", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        var seen = await browser.Http.GetStringAsync(new Uri(session.Origin + target.TrimStart('/')));

        Assert.Equal(target, seen);
    }

    [Fact]
    public async Task AbsoluteLinks_StayAsTheyAre_WithoutTheEndpointOption()
    {
        var endpoint = await world.AddEndpointAsync("links-off", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        var page = await browser.Http.GetStringAsync(session.At("/links.html"));

        Assert.Contains($"href=\"{world.Device.HttpOrigin}/home\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain(session.Origin.Host, page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AbsoluteLinks_InHtmlAndJavaScript_PointAtTheSessionOrigin_WithRewriteAbsoluteLinks()
    {
        var endpoint = await world.AddEndpointAsync("links-on", world.Device.HttpPort);
        using (var patched = await world.PatchEndpointAsync(endpoint, new JsonObject { ["rewriteAbsoluteLinks"] = true }))
        {
            Assert.True(patched.IsSuccessStatusCode, $"PATCH rewriteAbsoluteLinks: {(int)patched.StatusCode} {await patched.Content.ReadAsStringAsync()}");
        }

        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        var origin = session.Origin.GetLeftPart(UriPartial.Authority);

        var page = await browser.Http.GetStringAsync(session.At("/links.html"));
        Assert.Contains($"href=\"{origin}/home\"", page, StringComparison.Ordinal);
        Assert.Contains($"href=\"{origin}/settings\"", page, StringComparison.Ordinal);
        Assert.Contains($"src=\"{origin}/app.js\"", page, StringComparison.Ordinal);
        Assert.Contains($"var deviceBase = \"{origin}/headers\";", page, StringComparison.Ordinal);
        Assert.Contains("href=\"/index.html\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", page, StringComparison.Ordinal);

        var script = await browser.Http.GetStringAsync(session.At("/app.js"));
        Assert.Contains($"\"{origin}/headers\"", script, StringComparison.Ordinal);

        // Browsers accept gzip and the device would compress: the proxy must ask for a plain body to rewrite it.
        foreach (var path in new[] { "/links.html", "/app.js" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, session.At(path));
            request.Headers.AcceptEncoding.ParseAdd("gzip, deflate, br");
            using var response = await browser.Http.SendAsync(request);
            var body = await DecodeAsync(response);
            Assert.Contains($"{origin}/", body, StringComparison.Ordinal);
            Assert.DoesNotContain("127.0.0.1", body, StringComparison.Ordinal);
        }

        // Binary bodies are never touched.
        using var download = await browser.Http.GetAsync(session.At(DeviceWebSite.DownloadPath), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(DeviceWebSite.DownloadLength, download.Content.Headers.ContentLength);
    }

    [Theory]
    [InlineData("/style.css", "text/css")]
    [InlineData("/config.json", "application/json")]
    [InlineData("/status.xml", "application/xml")]
    public async Task AbsoluteLinks_InCssJsonAndXml_PointAtTheSessionOrigin_WithRewriteAbsoluteLinks(string path, string type)
    {
        var endpoint = await world.AddEndpointAsync("links-types", world.Device.HttpPort, extra: new JsonObject { ["rewriteAbsoluteLinks"] = true });
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        using var response = await browser.Http.GetAsync(session.At(path));

        Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains(session.Origin.GetLeftPart(UriPartial.Authority) + "/", body, StringComparison.Ordinal);
        Assert.DoesNotContain($"\"{world.Device.HttpOrigin}/", body, StringComparison.Ordinal);
    }

    /// <remarks>
    /// Not spelled out by the design ("absolute references to the device's origin"), but common in device pages:
    /// protocol-relative references, an upper-case scheme, JSON with escaped slashes (PHP's json_encode), and a
    /// <c>ws://</c> URL to the device (which an https session page may not even open: mixed content).
    /// </remarks>
    [Theory]
    [InlineData("/spellings.html", "//127.0.0.1:{0}/logo.png")]
    [InlineData("/spellings.html", "HTTP://127.0.0.1:{0}/home")]
    [InlineData("/config.json", "http:\\/\\/127.0.0.1:{0}\\/headers")]
    [InlineData("/app.js", "ws://127.0.0.1:{0}/ws")]
    public async Task AbsoluteLinks_InOtherSpellings_AreRewrittenToo(string path, string deviceReference)
    {
        var endpoint = await world.AddEndpointAsync("links-spellings", world.Device.HttpPort, extra: new JsonObject { ["rewriteAbsoluteLinks"] = true });
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        var body = await browser.Http.GetStringAsync(session.At(path));

        Assert.DoesNotContain(string.Format(System.Globalization.CultureInfo.InvariantCulture, deviceReference, world.Device.HttpPort), body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CliOptions_HostHeaderAndRewriteLinks_TakeEffect_AndCanBeTurnedOff()
    {
        var endpoint = "cli-options-" + Guid.NewGuid().ToString("N")[..6];
        await world.Stack.CliOkAsync("endpoints", "add", WebProxyStack.Gateway, "--name", endpoint, "--host", "127.0.0.1", "--port", WebProxyStack.Port(world.Device.HttpPort),
            "--protocol", "http", "--host-header", "hmi.line-a.example", "--rewrite-links", "true");
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        Assert.Contains("\"host\":\"hmi.line-a.example\"", await browser.Http.GetStringAsync(session.At("/headers")), StringComparison.Ordinal);
        Assert.DoesNotContain(world.Device.HttpOrigin, await browser.Http.GetStringAsync(session.At("/links.html")), StringComparison.Ordinal);

        await world.Stack.CliOkAsync("endpoints", "update", $"{WebProxyStack.Gateway}/{endpoint}", "--host-header", "", "--rewrite-links", "false");
        var next = await world.EnterWebSessionAsync(browser, endpoint);
        Assert.Contains($"\"host\":\"127.0.0.1:{world.Device.HttpPort}\"", await browser.Http.GetStringAsync(next.At("/headers")), StringComparison.Ordinal);
        Assert.Contains(world.Device.HttpOrigin, await browser.Http.GetStringAsync(next.At("/links.html")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(DeviceWebSite.Latin1PagePath)]
    [InlineData("/latin1-undeclared.html")]
    public async Task Latin1Page_KeepsItsBytes_WhenItsLinksAreRewritten(string path)
    {
        var endpoint = await world.AddEndpointAsync("latin1", world.Device.HttpPort, extra: new JsonObject { ["rewriteAbsoluteLinks"] = true });
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        using var direct = new HttpClient();
        var original = await direct.GetByteArrayAsync(world.Device.HttpOrigin + path);

        var proxied = await browser.Http.GetByteArrayAsync(session.At(path));

        // Exactly the device's bytes with only its origin replaced: no re-encoding of ä ö ü ß °.
        var expected = System.Text.Encoding.Latin1.GetBytes(System.Text.Encoding.Latin1.GetString(original)
            .Replace(world.Device.HttpOrigin, session.Origin.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal));
        Assert.True(expected.SequenceEqual(proxied), "the page's bytes changed: " + Convert.ToHexString(proxied));
    }

    [Fact]
    public async Task Head_OfARewrittenPage_AndOfTheFirmware_AnswerHeadersOnly()
    {
        var endpoint = await world.AddEndpointAsync("head", world.Device.HttpPort, extra: new JsonObject { ["rewriteAbsoluteLinks"] = true });
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        using var firmware = await browser.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, session.At(DeviceWebSite.DownloadPath)));
        Assert.Equal(HttpStatusCode.OK, firmware.StatusCode);
        Assert.Equal(DeviceWebSite.DownloadLength, firmware.Content.Headers.ContentLength);

        using var page = await browser.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, session.At("/links.html")));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Empty(await page.Content.ReadAsByteArrayAsync());

        // The connection is still usable afterwards (a HEAD answered with a body would desynchronise it).
        Assert.Contains("Test device", await browser.Http.GetStringAsync(session.At("/")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeviceWebSocketUrl_InAScript_BecomesTheSessionsWssUrl()
    {
        var endpoint = await world.AddEndpointAsync("links-ws", world.Device.HttpPort, extra: new JsonObject { ["rewriteAbsoluteLinks"] = true });
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        var script = await browser.Http.GetStringAsync(session.At("/app.js"));

        // The session origin is https: a ws:// URL on it is mixed content, which browsers block outside loopback names.
        Assert.True(script.Contains($"\"wss://{session.Origin.Authority}/ws\"", StringComparison.Ordinal), "the device's ws:// URL is not the session's wss:// one: " + script);
    }

    [Fact]
    public async Task BigPage_PastTheRewriteLimit_PassesWholeAndUnchanged()
    {
        var endpoint = await world.AddEndpointAsync("big", world.Device.HttpPort, extra: new JsonObject { ["rewriteAbsoluteLinks"] = true });
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        using var direct = new HttpClient();
        var original = await direct.GetStringAsync(world.Device.HttpOrigin + DeviceWebSite.BigPagePath);

        var proxied = await browser.Http.GetStringAsync(session.At(DeviceWebSite.BigPagePath));

        Assert.Equal(original.Length, proxied.Length);
        Assert.True(original == proxied, "a body past the rewrite limit was changed");
    }

    [Fact]
    public async Task RangeRequest_ForAPartOfTheFirmware_AnswersThoseBytes()
    {
        var endpoint = await world.AddEndpointAsync("range", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        using var direct = new HttpClient();
        using var expectedRequest = new HttpRequestMessage(HttpMethod.Get, world.Device.HttpOrigin + DeviceWebSite.DownloadPath);
        expectedRequest.Headers.Range = new(1_000_000, 1_999_999);
        var expected = await (await direct.SendAsync(expectedRequest)).Content.ReadAsByteArrayAsync();

        using var request = new HttpRequestMessage(HttpMethod.Get, session.At(DeviceWebSite.DownloadPath));
        request.Headers.Range = new(1_000_000, 1_999_999);
        using var response = await browser.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal("bytes 1000000-1999999/" + DeviceWebSite.DownloadLength, response.Content.Headers.ContentRange?.ToString());
        Assert.Equal(expected, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task ConditionalRequest_ForAnUnchangedPage_AnswersNotModified()
    {
        var endpoint = await world.AddEndpointAsync("etag", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);
        using var first = await browser.Http.GetAsync(session.At("/index.html"));
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);

        using var request = new HttpRequestMessage(HttpMethod.Get, session.At("/index.html"));
        request.Headers.IfNoneMatch.Add(etag);
        using var again = await browser.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
    }

    [Fact]
    public async Task ProxiedResponses_CarrySecurityHeaders_ThatKeepOtherOriginsOut()
    {
        var endpoint = await world.AddEndpointAsync("headers", world.Device.HttpPort);
        using var browser = new WebProxyClient(world.Stack);
        var session = await world.EnterWebSessionAsync(browser, endpoint);

        foreach (var path in new[] { "/", "/login", "/no-such-page" })
        {
            using var response = await browser.Http.GetAsync(session.At(path));
            Assert.Equal("nosniff", Single(response, "X-Content-Type-Options"));
            Assert.Equal("SAMEORIGIN", Single(response, "X-Frame-Options"), StringComparer.OrdinalIgnoreCase);
            Assert.Contains(response.Headers.GetValues("Content-Security-Policy"), v => v.Contains("frame-ancestors 'self'", StringComparison.Ordinal));
            Assert.Equal("same-origin", Single(response, "Referrer-Policy"));
        }
    }

    private static async Task<string> DecodeAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStreamAsync();
        var encoding = response.Content.Headers.ContentEncoding.LastOrDefault();
        await using Stream decoded = encoding switch
        {
            null => body,
            "gzip" => new GZipStream(body, CompressionMode.Decompress),
            "deflate" => new ZLibStream(body, CompressionMode.Decompress),
            "br" => new BrotliStream(body, CompressionMode.Decompress),
            _ => throw new InvalidOperationException("unexpected Content-Encoding " + encoding),
        };
        using var reader = new StreamReader(decoded);
        return await reader.ReadToEndAsync();
    }

    private static string Single(HttpResponseMessage response, string header) =>
        Assert.Single(response.Headers.TryGetValues(header, out var values) ? values : []);

    private static bool ContainsFingerprint(string text, SelfSignedCertificate certificate) =>
        text.Contains(certificate.Sha256, StringComparison.OrdinalIgnoreCase)
        || text.Contains(certificate.Sha256WithColons, StringComparison.OrdinalIgnoreCase)
        || text.Contains(Convert.ToBase64String(Convert.FromHexString(certificate.Sha256)).TrimEnd('='), StringComparison.Ordinal);
}
