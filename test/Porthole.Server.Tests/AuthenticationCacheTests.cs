using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Porthole.Protocol.Api;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Identity;
using Porthole.Server.Tests.Support;

namespace Porthole.Server.Tests;

/// <summary>
/// Authentication remembers what it read (docs/design/access-control.md, "Authentication cache"); a change to rights
/// must still apply on the very next request, and only audit appends may leave the remembered answers in place.
/// </summary>
public sealed class AuthenticationCacheTests
{
    private const string BobPassword = "correct-horse-9876";

    [Fact]
    public async Task RevokingAToken_EndsItOnTheNextRequest_ThoughItsCheckWasCached()
    {
        await using var server = await InProcessServer.StartAsync();
        using var admin = server.Client(await server.AdminTokenAsync());
        var created = Api.Read<CreateTokenResponse>(await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/tokens", new CreateTokenRequest("script")));
        using var script = server.Client(created.Token);
        await script.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/devices");
        var cache = server.App.Services.GetRequiredService<AuthenticationCache>();
        var generation = cache.Generation;
        await script.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/devices");
        Assert.Equal(generation, cache.Generation);
        Assert.NotEqual(0, cache.Count);

        await admin.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Delete, "/api/v1/tokens/" + created.Details.Id);

        var refusal = await script.ExpectAsync(HttpStatusCode.Unauthorized, HttpMethod.Get, "/api/v1/devices");
        Assert.Contains("revoked", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemovingAGrant_TakesItsRightsAwayOnTheNextRequest()
    {
        await using var server = await InProcessServer.StartAsync();
        using var admin = server.Client(await server.AdminTokenAsync());
        await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/users", new CreateUserRequest("bob", BobPassword, ["Administrator"]));
        using var bob = server.Client(await server.LoginAsync("bob", BobPassword));
        await bob.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/users");
        await bob.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/users");
        var grant = Api.Read<UserDto>(await admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/users/bob")).Grants.Single();

        await admin.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Delete, $"/api/v1/users/bob/grants/{grant.Id}");

        await bob.ExpectAsync(HttpStatusCode.Forbidden, HttpMethod.Get, "/api/v1/users");
    }

    [Fact]
    public async Task AuditAppendsKeepWhatWasRemembered_AndEveryOtherWriteForgetsIt()
    {
        await using var server = await InProcessServer.StartAsync();
        using var admin = server.Client(await server.AdminTokenAsync());
        await admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/devices");
        var cache = server.App.Services.GetRequiredService<AuthenticationCache>();
        var generation = cache.Generation;
        Assert.NotEqual(0, cache.Count);

        // Every session appends two audit records: they must not cost the next request its cached check.
        await using (var scope = server.App.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<AuditLog>().WriteAsync("user:admin", "test.event", "device:x/y");
        }

        Assert.Equal(generation, cache.Generation);
        Assert.NotEqual(0, cache.Count);

        // A tracked change of any other kind.
        await using (var scope = server.App.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PortholeDbContext>();
            db.DeviceGroups.Add(new DeviceGroup { Id = Guid.NewGuid().ToString("N"), Name = "plant-9" });
            await db.SaveChangesAsync();
        }

        Assert.NotEqual(generation, cache.Generation);
        Assert.Equal(0, cache.Count);

        // A bulk statement, which bypasses change tracking (a password change revokes tokens this way).
        await admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/devices");
        generation = cache.Generation;
        await using (var scope = server.App.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PortholeDbContext>();
            await db.ApiTokens.Where(t => t.Name == "no such token").ExecuteUpdateAsync(t => t.SetProperty(x => x.RevokedAt, DateTimeOffset.UtcNow));
        }

        Assert.NotEqual(generation, cache.Generation);
    }

    [Fact]
    public void ALookUpThatAWriteOvertook_IsNotKept()
    {
        var cache = new AuthenticationCache();
        var before = cache.Generation;
        cache.Invalidate();

        cache.Add("token:a", "read before the write", before);
        cache.Add("token:b", "read after the write", cache.Generation);

        Assert.False(cache.TryGet<string>("token:a", out _));
        Assert.True(cache.TryGet<string>("token:b", out var kept));
        Assert.Equal("read after the write", kept);
        cache.Invalidate();
        Assert.False(cache.TryGet<string>("token:b", out _));
    }
}
