using Porthole.Server.WebProxy;
using Xunit;

namespace Porthole.Server.Tests.WebProxy;

/// <summary>How device answers are moved onto the session origin: redirects, cookies and absolute links.</summary>
public sealed class RewritingTests
{
    private static readonly SessionOrigin Origin = new("https", "abcdefghijklmnopqrstuvwxyz.localhost:8443");

    [Theory]
    [InlineData("http://192.168.1.20/home", "https://abcdefghijklmnopqrstuvwxyz.localhost:8443/home")]
    [InlineData("http://192.168.1.20:80/home?x=1#top", "https://abcdefghijklmnopqrstuvwxyz.localhost:8443/home?x=1#top")]
    [InlineData("https://192.168.1.20/secure", "https://abcdefghijklmnopqrstuvwxyz.localhost:8443/secure")]
    [InlineData("//192.168.1.20/x", "//abcdefghijklmnopqrstuvwxyz.localhost:8443/x")]
    [InlineData("/relative/path", "/relative/path")]
    [InlineData("login.cgi", "login.cgi")]
    [InlineData("http://192.168.1.200/other-device", "http://192.168.1.200/other-device")]
    [InlineData("http://192.168.1.20:8080/other-port", "http://192.168.1.20:8080/other-port")]
    [InlineData("https://example.com/help", "https://example.com/help")]
    public void Location_PointingAtTheDevice_MovesToTheSessionOrigin(string location, string expected)
    {
        var device = new DeviceAddress("http", "192.168.1.20", 80, null);
        Assert.Equal(expected, device.RewriteLocation(location, Origin));
    }

    [Fact]
    public void Location_UsesTheConfiguredHostHeaderToo()
    {
        var device = new DeviceAddress("http", "10.0.0.5", 8081, "printer.local");
        Assert.Equal("printer.local", device.HostHeader);
        Assert.Equal("https://abcdefghijklmnopqrstuvwxyz.localhost:8443/a", device.RewriteLocation("http://printer.local/a", Origin));
        Assert.Equal("https://abcdefghijklmnopqrstuvwxyz.localhost:8443/b", device.RewriteLocation("http://10.0.0.5:8081/b", Origin));
        Assert.Equal("http://10.0.0.5/c", device.RewriteLocation("http://10.0.0.5/c", Origin));
    }

    [Theory]
    [InlineData("http", "192.168.1.20", 80, "192.168.1.20")]
    [InlineData("http", "192.168.1.20", 8080, "192.168.1.20:8080")]
    [InlineData("https", "plc.local", 443, "plc.local")]
    [InlineData("https", "fe80::1", 8443, "[fe80::1]:8443")]
    public void HostHeader_IsWhatTheDeviceExpects(string scheme, string host, int port, string expected) =>
        Assert.Equal(expected, new DeviceAddress(scheme, host, port, null).HostHeader);

    [Fact]
    public void AbsoluteReferences_InHtmlScriptsAndJson_AreRewritten_AndLookalikesAreNot()
    {
        var device = new DeviceAddress("http", "192.168.1.2", 8080, null);
        const string body = """
            <a href="http://192.168.1.2:8080/status">s</a> <img src="//192.168.1.2:8080/logo.png">
            <script>var api = 'http://192.168.1.2:8080/api'; var other = 'http://192.168.1.20:8080/x'; var port = 'http://192.168.1.2:80801/y';</script>
            {"next":"http:\/\/192.168.1.2:8080\/next"} HTTP://192.168.1.2:8080/upper
            """;
        var rewritten = device.RewriteAbsoluteReferences(body, Origin);

        Assert.Contains("href=\"https://abcdefghijklmnopqrstuvwxyz.localhost:8443/status\"", rewritten, StringComparison.Ordinal);
        Assert.Contains("src=\"//abcdefghijklmnopqrstuvwxyz.localhost:8443/logo.png\"", rewritten, StringComparison.Ordinal);
        Assert.Contains("'https://abcdefghijklmnopqrstuvwxyz.localhost:8443/api'", rewritten, StringComparison.Ordinal);
        Assert.Contains("https:\\/\\/abcdefghijklmnopqrstuvwxyz.localhost:8443\\/next", rewritten, StringComparison.Ordinal);
        Assert.Contains("https://abcdefghijklmnopqrstuvwxyz.localhost:8443/upper", rewritten, StringComparison.Ordinal);

        // Another device whose address starts the same, and a longer port, are not this device.
        Assert.Contains("'http://192.168.1.20:8080/x'", rewritten, StringComparison.Ordinal);
        Assert.Contains("'http://192.168.1.2:80801/y'", rewritten, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https", "new WebSocket('ws://192.168.1.2:8080/live')", "new WebSocket('wss://abcdefghijklmnopqrstuvwxyz.localhost:8443/live')")]
    [InlineData("http", "new WebSocket('ws://192.168.1.2:8080/live')", "new WebSocket('ws://abcdefghijklmnopqrstuvwxyz.localhost:8443/live')")]
    [InlineData("https", "'wss://192.168.1.2:8080/live'", "'wss://abcdefghijklmnopqrstuvwxyz.localhost:8443/live'")]
    public void WebSocketUrls_StayWebSocketUrls_SecureOnASecureOrigin(string originScheme, string body, string expected)
    {
        var device = new DeviceAddress("http", "192.168.1.2", 8080, null);
        Assert.Equal(expected, device.RewriteAbsoluteReferences(body, new SessionOrigin(originScheme, Origin.Authority)));
    }

    [Theory]
    [InlineData("sid=1; Domain=192.168.1.20; Path=/; HttpOnly", true, "sid=1; Path=/; HttpOnly")]
    [InlineData("sid=1; domain=.example.com; Secure; SameSite=Lax", true, "sid=1; Secure; SameSite=Lax")]
    [InlineData("sid=1; Domain=192.168.1.20; Secure; Path=/app", false, "sid=1; Path=/app")]
    [InlineData("theme=dark", true, "theme=dark")]
    [InlineData("a=b; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Max-Age=60", true, "a=b; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Max-Age=60")]
    public void SetCookie_LosesItsDomain_AndSecureOnlyOnPlainHttp(string setCookie, bool secureOrigin, string expected) =>
        Assert.Equal(expected, SetCookieRewriter.Rewrite(setCookie, secureOrigin));

    [Theory]
    [InlineData("porthole_session", true)]
    [InlineData("porthole_csrf", true)]
    [InlineData("__Host-porthole-web", true)]
    [InlineData("porthole_web", true)]
    [InlineData("devsession", false)]
    public void PortholeCookies_AreRecognised(string name, bool ours) => Assert.Equal(ours, SetCookieRewriter.IsPortholeCookie(name));
}
