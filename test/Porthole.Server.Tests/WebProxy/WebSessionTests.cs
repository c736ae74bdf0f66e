using Porthole.Server.WebProxy;
using Xunit;

namespace Porthole.Server.Tests.WebProxy;

/// <summary>Session ids as host names, the single-use ticket and the session cookie.</summary>
public sealed class WebSessionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static WebSession NewSession() => new(
        new WebSessionInfo(WebSessionId.Create(), "u1", "alice", "d1", "gw", "e1", "printer", "http", "127.0.0.1"),
        new SessionOrigin("https", "x.localhost"), new DeviceAddress("http", "192.168.1.20", 80, null), Now);

    [Fact]
    public void Ids_AreDnsLabels_AndDistinct()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => WebSessionId.Create()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, id =>
        {
            Assert.Equal(WebSessionId.Length, id.Length);
            Assert.True(WebSessionId.IsWellFormed(id));
            Assert.Equal(UriHostNameType.Dns, Uri.CheckHostName(id + ".localhost"));
        });
    }

    [Theory]
    [InlineData("abcdefghijklmnopqrstuvwxyz.localhost", "localhost", true)]
    [InlineData("ABCDEFGHIJKLMNOPQRSTUVWXYZ.LOCALHOST", "localhost", true)]
    [InlineData("abcdefghijklmnopqrstuvwxyz.devices.example.com", "devices.example.com", true)]
    [InlineData("localhost", "localhost", false)]
    [InlineData("console.localhost", "localhost", false)]
    [InlineData("abcdefghijklmnopqrstuvwxy1.localhost", "localhost", false)]
    [InlineData("x.abcdefghijklmnopqrstuvwxyz.localhost", "localhost", false)]
    [InlineData("abcdefghijklmnopqrstuvwxyz.localhost.evil.com", "localhost", false)]
    [InlineData("abcdefghijklmnopqrstuvwxyzXlocalhost", "localhost", false)]
    [InlineData("127.0.0.1", "localhost", false)]
    public void SessionHosts_AreRecognised_AndNothingElse(string host, string domain, bool isSession) =>
        Assert.Equal(isSession, WebProxyMiddleware.TrySessionLabel(host, domain, out _));

    [Fact]
    public void Ticket_WorksOnce()
    {
        var session = NewSession();
        var ticket = session.IssueTicket(Now.AddMinutes(1));

        var first = session.RedeemTicket(ticket, Now.AddSeconds(5));
        var second = session.RedeemTicket(ticket, Now.AddSeconds(6));

        Assert.NotNull(first.CookieSecret);
        Assert.True(session.IsAuthorized(first.CookieSecret));
        Assert.Null(second.CookieSecret);
        Assert.Contains("not valid", second.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Ticket_Expires_AndIsThenGoneForGood()
    {
        var session = NewSession();
        var ticket = session.IssueTicket(Now.AddMinutes(1));

        var late = session.RedeemTicket(ticket, Now.AddMinutes(2));

        Assert.Null(late.CookieSecret);
        Assert.Contains("expired", late.Error, StringComparison.Ordinal);
        Assert.Null(session.RedeemTicket(ticket, Now).CookieSecret);
    }

    [Fact]
    public void WrongTicketOrCookie_IsRefused()
    {
        var session = NewSession();
        session.IssueTicket(Now.AddMinutes(1));

        Assert.Null(session.RedeemTicket("guess", Now).CookieSecret);
        Assert.False(session.IsAuthorized(null));
        Assert.False(session.IsAuthorized(""));
        Assert.False(session.IsAuthorized("guess"));
    }

    [Fact]
    public void Expiry_FollowsIdleTimeAndLifetime()
    {
        var options = new WebProxyOptions { IdleTimeout = TimeSpan.FromMinutes(30), MaxLifetime = TimeSpan.FromHours(8) };
        var session = NewSession();

        Assert.Null(session.ExpiryReason(Now.AddMinutes(29), options));
        Assert.Contains("idle", session.ExpiryReason(Now.AddMinutes(31), options), StringComparison.Ordinal);

        session.Touch(Now.AddHours(7.9));
        Assert.Null(session.ExpiryReason(Now.AddHours(7.95), options));
        Assert.Contains("maximum lifetime", session.ExpiryReason(Now.AddHours(8), options), StringComparison.Ordinal);
    }
}
