using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Porthole.Tests.Common.DeviceWeb;

namespace Porthole.FunctionalTests.WebProxy;

/// <summary>
/// The device web servers on their own, without Porthole: proves the fixtures behave like the embedded servers the
/// proxy tests rely on (so a proxy test failure is the proxy's).
/// </summary>
public sealed class DeviceWebSiteTests(DeviceWebSite device) : IClassFixture<DeviceWebSite>
{
    [Fact]
    public async Task Login_SetsADomainCookie_AndRedirectsToAnAbsoluteAddress_ThenHomeWelcomes()
    {
        using var http = Client();
        using var unauthenticated = await http.GetAsync($"{device.HttpOrigin}/home");
        Assert.Equal(HttpStatusCode.Found, unauthenticated.StatusCode);
        Assert.Equal($"{device.HttpOrigin}/login", unauthenticated.Headers.Location?.ToString());

        var form = await http.GetStringAsync($"{device.HttpOrigin}/login");
        Assert.Contains("<form method=\"post\" action=\"/login\">", form, StringComparison.Ordinal);

        using var login = await http.PostAsync($"{device.HttpOrigin}/login", LoginForm());
        Assert.Equal(HttpStatusCode.Found, login.StatusCode);
        Assert.Equal($"{device.HttpOrigin}/home", login.Headers.Location?.ToString());
        var setCookie = Assert.Single(login.Headers.GetValues("Set-Cookie"));
        Assert.Matches("^devsession=[0-9a-f]{32}; Path=/; Domain=127.0.0.1; HttpOnly$", setCookie);

        using var home = new HttpRequestMessage(HttpMethod.Get, $"{device.HttpOrigin}/home");
        home.Headers.Add("Cookie", setCookie.Split(';')[0]);
        using var welcome = await http.SendAsync(home);
        Assert.Equal(HttpStatusCode.OK, welcome.StatusCode);
        Assert.Contains("Welcome", await welcome.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_FromAForeignOrigin_IsRefused_LikeADeviceWithACsrfCheck()
    {
        using var http = Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{device.HttpOrigin}/login") { Content = LoginForm() };
        request.Headers.Add("Origin", "https://abc.localhost:8443");

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Headers_EchoesTheHostTheDeviceSaw()
    {
        using var http = Client();
        var json = JsonDocument.Parse(await http.GetStringAsync($"{device.HttpOrigin}/headers?x=1")).RootElement;

        Assert.Equal($"127.0.0.1:{device.HttpPort}", json.GetProperty("headers").GetProperty("host").GetString());
        Assert.Equal("/headers?x=1", json.GetProperty("path").GetString());
    }

    [Fact]
    public async Task Basic_AsksForCredentials_AndAcceptsTheDevicePassword()
    {
        using var http = Client();
        using var challenge = await http.GetAsync($"{device.HttpOrigin}/basic/");
        Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
        Assert.Equal($"Basic realm=\"{DeviceWebSite.BasicRealm}\"", challenge.Headers.WwwAuthenticate.ToString());

        using var request = new HttpRequestMessage(HttpMethod.Get, $"{device.HttpOrigin}/basic/");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{DeviceWebSite.User}:{DeviceWebSite.Password}")));
        using var ok = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains("Basic area", await ok.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Digest_AsksForDigestCredentials_AndDotNetsHandlerAnswersThem()
    {
        using var http = Client();
        using var challenge = await http.GetAsync($"http://127.0.0.1:{device.DigestPort}/digest/");
        Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
        Assert.StartsWith("Digest realm=\"" + DeviceWebSite.DigestRealm + "\"", challenge.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);

        using var withCredentials = new HttpClient(new SocketsHttpHandler { UseProxy = false, Credentials = new NetworkCredential(DeviceWebSite.User, DeviceWebSite.Password) });
        var page = await withCredentials.GetStringAsync($"http://127.0.0.1:{device.DigestPort}/digest/");
        Assert.Contains("Digest area", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http10Server_AnswersWithHttp10_AndClosesTheConnection()
    {
        using var http = Client();
        foreach (var page in Http10Server.Pages)
        {
            using var response = await http.GetAsync($"http://127.0.0.1:{device.Http10Port}{page}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(HttpVersion.Version10, response.Version);
        }
    }

    [Fact]
    public async Task Download_HasTheAdvertisedHash()
    {
        using var http = Client();
        await using var body = await http.GetStreamAsync(device.HttpOrigin + DeviceWebSite.DownloadPath);
        Assert.Equal(device.DownloadSha256, Convert.ToHexStringLower(await SHA256.HashDataAsync(body)));
    }

    [Fact]
    public async Task Upload_Of100MB_IsHashedByTheDevice()
    {
        using var http = Client();
        var content = new RandomContent(100L * 1000 * 1000);
        using var response = await http.PostAsync($"{device.HttpOrigin}/upload", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(content.Length, json.GetProperty("bytes").GetInt64());
        Assert.Equal(content.Sha256, json.GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task WebSocket_Echoes()
    {
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{device.HttpPort}/ws"), CancellationToken.None);
        Assert.Equal("hello device", await WebProxyClient.EchoAsync(socket, "hello device"));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
    }

    [Fact]
    public async Task Events_ArriveOneByOne()
    {
        using var http = Client();
        var arrivals = await WebProxyClient.ReadEventsAsync(http, $"{device.HttpOrigin}/events?count=4&intervalMs=300");
        Assert.Equal(["tick 1", "tick 2", "tick 3", "tick 4"], arrivals.Select(a => a.Data));
        Assert.True(arrivals[^1].At - arrivals[0].At > TimeSpan.FromMilliseconds(600), "events came in one burst");
    }

    [Fact]
    public async Task Https_ServesTheSelfSignedCertificate()
    {
        string? seen = null;
        using var http = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                seen = Convert.ToHexString(SHA256.HashData(certificate!.GetRawCertData()));
                return true;
            } },
        });
        using var response = await http.GetAsync(device.HttpsOrigin + "/");
        Assert.Contains("Test device", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(response.Headers.Contains("Strict-Transport-Security") && response.Headers.Contains("Alt-Svc"), "the HTTPS device should send HSTS and Alt-Svc");
        Assert.Equal(device.Certificate.Sha256, seen);
    }

    [Fact]
    public async Task Links_NameTheDevicesOwnAddress()
    {
        using var http = Client();
        var page = await http.GetStringAsync($"{device.HttpOrigin}/links.html");
        Assert.Contains($"href=\"{device.HttpOrigin}/home\"", page, StringComparison.Ordinal);
        Assert.Contains($"\"{device.HttpOrigin}/headers\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pages_AreGzipped_WhenTheClientAcceptsIt()
    {
        using var http = Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{device.HttpOrigin}/links.html");
        request.Headers.AcceptEncoding.ParseAdd("gzip");

        using var response = await http.SendAsync(request);

        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
    }

    [Theory]
    [InlineData("absolute", "http://127.0.0.1:{0}/home?from=redirect")]
    [InlineData("other-scheme", "https://127.0.0.1:{0}/home?from=redirect")]
    [InlineData("protocol-relative", "//127.0.0.1:{0}/home?from=redirect")]
    [InlineData("relative", "/home?from=redirect")]
    public async Task Redirect_SpellsTheDevicesAddressAsAsked(string kind, string expected)
    {
        using var http = Client();
        using var response = await http.GetAsync($"{device.HttpOrigin}/redirect?to={kind}");

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, device.HttpPort), response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task WebSocket_WithHello_FirstReportsTheHostAndOriginItSaw()
    {
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Origin", device.HttpOrigin);
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{device.HttpPort}/ws?hello=1"), CancellationToken.None);
        var buffer = new byte[4096];
        var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
        var hello = JsonDocument.Parse(buffer.AsMemory(0, received.Count)).RootElement;

        Assert.Equal($"127.0.0.1:{device.HttpPort}", hello.GetProperty("host").GetString());
        Assert.Equal(device.HttpOrigin, hello.GetProperty("origin").GetString());
    }

    [Fact]
    public async Task ReplacedCertificate_IsServedOnTheSamePort()
    {
        var before = device.Certificate;
        var port = device.HttpsPort;

        var after = await device.ReplaceHttpsCertificateAsync();

        Assert.Equal(port, device.HttpsPort);
        Assert.NotEqual(before.Sha256, after.Sha256);
        await Https_ServesTheSelfSignedCertificate();
    }

    [Fact]
    public async Task UploadBehindBasicAuth_IsHashed_WithCredentials()
    {
        using var http = Client();
        using var challenged = await http.PostAsync($"{device.HttpOrigin}/basic/upload", new RandomContent(1000));
        Assert.Equal(HttpStatusCode.Unauthorized, challenged.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Post, $"{device.HttpOrigin}/basic/upload") { Content = new RandomContent(5_000_000) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{DeviceWebSite.User}:{DeviceWebSite.Password}")));
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(((RandomContent)request.Content).Sha256, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task UploadBehindDigestAuth_IsHashed_WithDigestCredentials()
    {
        using var http = Client();
        using var challenged = await http.PostAsync($"http://127.0.0.1:{device.DigestPort}/digest/upload", new RandomContent(1000));
        Assert.Equal(HttpStatusCode.Unauthorized, challenged.StatusCode);

        using var withCredentials = new HttpClient(new SocketsHttpHandler { UseProxy = false, Credentials = new NetworkCredential(DeviceWebSite.User, DeviceWebSite.Password) });
        var content = new RandomContent(5_000_000);
        using var response = await withCredentials.PostAsync($"http://127.0.0.1:{device.DigestPort}/digest/upload", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content.Sha256, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task Cookies_ComeInTheSpellingsOfEmbeddedServers()
    {
        using var http = Client();
        using var response = await http.GetAsync($"{device.HttpOrigin}/cookies");

        var cookies = response.Headers.GetValues("Set-Cookie").ToList();
        Assert.Equal(4, cookies.Count);
        Assert.Contains("lang=en; Domain=127.0.0.1; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT; HttpOnly", cookies);
    }

    [Fact]
    public async Task BigPage_IsPastTheRewriteLimit()
    {
        using var http = Client();
        var page = await http.GetStringAsync(device.HttpOrigin + DeviceWebSite.BigPagePath);
        Assert.True(page.Length > 16 * 1024 * 1024, $"{page.Length} characters");
        Assert.EndsWith($"<a id=\"last\" href=\"{device.HttpOrigin}/settings\">Settings</a></body></html>\n", page, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/status.html")]
    [InlineData("/lf/status.html")]
    public async Task AncientDevice_AnswersWithoutContentLength_UntilItCloses(string path)
    {
        using var http = Client();
        using var response = await http.GetAsync($"http://127.0.0.1:{device.Ancient.Port}{path}", HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentLength);
        Assert.Equal(AncientHttpDevice.Body(path), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Echo_ReturnsTheRawRequestTarget()
    {
        using var http = Client();
        const string target = "/echo/cgi-bin/luci/;stok=0123abcd/admin/a%2Fb/c%20d?x=1&y=%2F";

        Assert.Equal(target, await http.GetStringAsync(new Uri(device.HttpOrigin + target)));
    }

    [Fact]
    public async Task TypedBodies_NameTheDevicesOwnAddress_InTheirSpellings()
    {
        using var http = Client();
        var json = await http.GetStringAsync($"{device.HttpOrigin}/config.json");
        Assert.Equal($"{device.HttpOrigin}/headers", JsonDocument.Parse(json).RootElement.GetProperty("escaped").GetString());
        Assert.Contains($"http:\\/\\/127.0.0.1:{device.HttpPort}\\/headers", json, StringComparison.Ordinal);
        Assert.Contains($"url(\"{device.HttpOrigin}/background.png\")", await http.GetStringAsync($"{device.HttpOrigin}/style.css"), StringComparison.Ordinal);
        Assert.Contains($"href=\"{device.HttpOrigin}/home\"", await http.GetStringAsync($"{device.HttpOrigin}/status.xml"), StringComparison.Ordinal);
        Assert.Contains($"src=\"//127.0.0.1:{device.HttpPort}/logo.png\"", await http.GetStringAsync($"{device.HttpOrigin}/spellings.html"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Latin1Page_IsDeclaredAsSuch()
    {
        using var http = Client();
        using var response = await http.GetAsync(device.HttpOrigin + DeviceWebSite.Latin1PagePath);
        Assert.Equal("iso-8859-1", response.Content.Headers.ContentType?.CharSet);
        Assert.Contains((byte)0xFC, await response.Content.ReadAsByteArrayAsync());
        using var undeclared = await http.GetAsync(device.HttpOrigin + "/latin1-undeclared.html");
        Assert.Null(undeclared.Content.Headers.ContentType?.CharSet);
    }

    private static FormUrlEncodedContent LoginForm(string password = DeviceWebSite.Password) =>
        new([new("username", DeviceWebSite.User), new("password", password)]);

    private static HttpClient Client() => new(new SocketsHttpHandler { UseProxy = false, UseCookies = false, AllowAutoRedirect = false });
}
