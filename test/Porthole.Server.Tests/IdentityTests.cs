using System.Net;
using Microsoft.Extensions.Time.Testing;
using Porthole.Protocol.Api;
using Porthole.Server.Tests.Support;

namespace Porthole.Server.Tests;

/// <summary>Passwords, lock-out, forced password change, disabled accounts and token expiry.</summary>
public sealed class IdentityTests
{
    private const string BobPassword = "correct-horse-battery";

    private static async Task<(InProcessServer Server, HttpClient Admin)> StartAsync(TimeProvider? time = null, params string[] arguments)
    {
        var server = await InProcessServer.StartAsync(time, arguments);
        return (server, server.Client(await server.AdminTokenAsync()));
    }

    private static Task<HttpResponseMessage> LoginAsync(InProcessServer server, string username, string password) =>
        server.Client().SendAsync(HttpMethod.Post, "/api/v1/auth/login", new LoginRequest(username, password));

    [Fact]
    public async Task RepeatedFailures_LockTheUserOut_EvenWithTheRightPassword_AndAreAudited()
    {
        var (server, admin) = await StartAsync();
        await using var _ = server;
        await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/users", new CreateUserRequest("bob", BobPassword, ["Technician"]));

        for (var i = 0; i < 5; i++)
        {
            using var failed = await LoginAsync(server, "bob", "wrong-password-" + i);
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }

        using var locked = await LoginAsync(server, "bob", BobPassword);
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.Contains("locked-out", await locked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var audit = Api.Read<AuditPage>(await admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/audit?user=bob&action=auth.login"));
        Assert.Equal(5, audit.Entries.Count(e => e.Outcome == "failure"));
        Assert.Equal(1, audit.Entries.Count(e => e.Outcome == "denied"));

        // Other users are not affected.
        using var other = await LoginAsync(server, "admin", InProcessServer.AdminPassword);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task ManyAttemptsFromOneAddress_AreRateLimited()
    {
        var (server, admin) = await StartAsync(null, "--Porthole:LoginAttemptsPerClientPerMinute=3");
        await using var _ = server;
        admin.Dispose();

        // The admin login above used one attempt.
        using var second = await LoginAsync(server, "nobody", "x-wrong-password");
        using var third = await LoginAsync(server, "nobody2", "x-wrong-password");
        using var fourth = await LoginAsync(server, "admin", InProcessServer.AdminPassword);

        Assert.Equal(HttpStatusCode.Unauthorized, second.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, third.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, fourth.StatusCode);
        Assert.Contains("too many password attempts from this address", await fourth.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AttemptsFromOneAddress_ComeBackOverTheMinute()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (server, admin) = await StartAsync(time, "--Porthole:LoginAttemptsPerClientPerMinute=3");
        await using var _ = server;
        admin.Dispose();

        // The admin login above used one attempt. (Successful logins only: a failure waits on the fake clock.)
        using var second = await LoginAsync(server, "admin", InProcessServer.AdminPassword);
        using var third = await LoginAsync(server, "admin", InProcessServer.AdminPassword);
        using var refused = await LoginAsync(server, "admin", InProcessServer.AdminPassword);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);

        // Three a minute: one attempt is back after 20 s, not before.
        time.Advance(TimeSpan.FromSeconds(21));
        using var again = await LoginAsync(server, "admin", InProcessServer.AdminPassword);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        using var tooSoon = await LoginAsync(server, "admin", InProcessServer.AdminPassword);
        Assert.Equal(HttpStatusCode.TooManyRequests, tooSoon.StatusCode);
    }

    [Fact]
    public async Task GeneratedPassword_MustBeChangedBeforeLogin()
    {
        var (server, admin) = await StartAsync();
        await using var _ = server;
        var created = Api.Read<CreateUserResponse>(await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/users", new CreateUserRequest("carol", null, ["Auditor"])));
        Assert.NotNull(created.GeneratedPassword);
        Assert.True(created.User.MustChangePassword);

        using var refused = await LoginAsync(server, "carol", created.GeneratedPassword!);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("password-change-required", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var anonymous = server.Client();
        await anonymous.ExpectAsync(HttpStatusCode.BadRequest, HttpMethod.Post, "/api/v1/auth/password", new ChangePasswordRequest("carol", created.GeneratedPassword!, "short"));
        await anonymous.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Post, "/api/v1/auth/password", new ChangePasswordRequest("carol", created.GeneratedPassword!, "staple-horse-battery"));
        using var accepted = await LoginAsync(server, "carol", "staple-horse-battery");
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Theory]
    [InlineData("short")]
    [InlineData("dave-is-my-password")]
    [InlineData("aaaaaaaaaaaaaaaa")]
    public async Task WeakPasswords_AreRefused(string password)
    {
        var (server, admin) = await StartAsync();
        await using var _ = server;

        await admin.ExpectAsync(HttpStatusCode.BadRequest, HttpMethod.Post, "/api/v1/users", new CreateUserRequest("dave", password));

        await admin.ExpectAsync(HttpStatusCode.NotFound, HttpMethod.Get, "/api/v1/users/dave");
    }

    [Fact]
    public async Task DisablingAUser_EndsTheirTokensAndLogins()
    {
        var (server, admin) = await StartAsync();
        await using var _ = server;
        await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/users", new CreateUserRequest("bob", BobPassword, ["Technician"]));
        using var bob = server.Client(await server.LoginAsync("bob", BobPassword));
        await bob.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/devices");

        await admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Patch, "/api/v1/users/bob", new UpdateUserRequest(Disabled: true));

        await bob.ExpectAsync(HttpStatusCode.Unauthorized, HttpMethod.Get, "/api/v1/devices");
        using var login = await LoginAsync(server, "bob", BobPassword);
        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
    }

    [Fact]
    public async Task Tokens_ExpireOnTime()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (server, admin) = await StartAsync(time);
        await using var _ = server;
        var created = Api.Read<CreateTokenResponse>(await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/tokens", new CreateTokenRequest("week", null, 7)));
        using var client = server.Client(created.Token);
        await client.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/devices");

        time.Advance(TimeSpan.FromDays(8));

        var text = await client.ExpectAsync(HttpStatusCode.Unauthorized, HttpMethod.Get, "/api/v1/devices");
        Assert.Contains("expired", text, StringComparison.Ordinal);
        var listed = Api.Read<List<TokenDto>>(await server.Client(await server.AdminTokenAsync()).ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/tokens"));
        Assert.Contains(listed, t => t.Name == "week" && t.ExpiresAt < time.GetUtcNow());
    }
}
