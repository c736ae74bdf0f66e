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
/// Authentication and session opening remember what they read (docs/design/access-control.md, "Read cache"); a
/// change to rights, endpoints or remote-access rules must still apply on the very next request, and only audit
/// appends may leave the remembered answers in place.
/// </summary>
public sealed class ReadCacheTests
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
        var cache = server.App.Services.GetRequiredService<ReadCache>();
        var generation = cache.Generation;
        await script.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/devices");
        Assert.Equal(generation, cache.Generation);
        Assert.NotEqual(0, cache.Count);

        await admin.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Delete, "/api/v1/tokens/" + created.Details.Id);

        var refusal = await script.ExpectAsync(HttpStatusCode.Unauthorized, HttpMethod.Get, "/api/v1/devices");
        Assert.Contains("revoked", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATokensRequests_ShareOneIdentity_UntilAWriteBuildsANewOneWithTheNewRights()
    {
        // A ClaimsIdentity copies every claim it is given and a session's WebSocket request lives as long as the
        // session, so each request building its own cost ≈0.7 KB per request for hours (issue 7, idle memory).
        await using var server = await InProcessServer.StartAsync();
        using var admin = server.Client(await server.AdminTokenAsync());
        await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/users", new CreateUserRequest("bob", BobPassword, ["Administrator"]));
        var bobToken = await server.LoginAsync("bob", BobPassword);
        var validator = server.App.Services.GetRequiredService<ApiTokenValidator>();

        var (first, _, _) = await validator.ValidateAsync(bobToken, CancellationToken.None);
        var (second, _, _) = await validator.ValidateAsync(bobToken, CancellationToken.None);
        Assert.NotNull(first);
        Assert.Same(first, second);
        Assert.Contains(first.Claims, c => c is { Type: Permissions.ClaimType, Value: Permissions.UsersManage });

        var grant = Api.Read<UserDto>(await admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/users/bob")).Grants.Single();
        await admin.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Delete, $"/api/v1/users/bob/grants/{grant.Id}");

        var (after, _, _) = await validator.ValidateAsync(bobToken, CancellationToken.None);
        Assert.NotNull(after);
        Assert.NotSame(first, after);
        Assert.DoesNotContain(after.Claims, c => c.Type == Permissions.ClaimType);
        Assert.Contains(first.Claims, c => c is { Type: Permissions.ClaimType, Value: Permissions.UsersManage });
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
        var cache = server.App.Services.GetRequiredService<ReadCache>();
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
    public async Task OpeningASession_ReadsTheDeviceAndRulesOnce_AndSeesTheNextChangeAtOnce()
    {
        await using var server = await InProcessServer.StartAsync();
        using var admin = server.Client(await server.AdminTokenAsync());
        await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices", new CreateDeviceRequest("press-1", "plant-2"));
        await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices/press-1/endpoints", new CreateEndpointRequest("ssh", "127.0.0.1", 22, "ssh"));
        var cache = server.App.Services.GetRequiredService<ReadCache>();

        // Offline is decided after the device, its endpoint and the rules were read: the next attempt finds them kept.
        await ExpectProblemAsync(admin, HttpStatusCode.Conflict, ProblemCodes.DeviceOffline);
        var generation = cache.Generation;
        Assert.True(cache.TryGet<Device>("device-graph:press-1", out var kept));
        Assert.Contains(kept.Endpoints, e => e.Name == "ssh");
        await ExpectProblemAsync(admin, HttpStatusCode.Conflict, ProblemCodes.DeviceOffline);
        Assert.Equal(generation, cache.Generation);
        Assert.True(cache.TryGet<Device>("device-graph:press-1", out var again));
        Assert.Same(kept, again);

        // A committed rule refuses the very next opening, with its reason.
        await admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Put, "/api/v1/remote-access/rules", new StageRuleRequest("group", "plant-2", false));
        await admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, "/api/v1/remote-access/commit");
        var refusal = await ExpectProblemAsync(admin, HttpStatusCode.Conflict, ProblemCodes.RemoteAccessDisabled);
        Assert.Contains("disabled by group plant-2", refusal, StringComparison.Ordinal);

        // So does a removed endpoint.
        await admin.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Delete, "/api/v1/devices/press-1/endpoints/ssh");
        await ExpectProblemAsync(admin, HttpStatusCode.NotFound, ProblemCodes.EndpointNotFound);
    }

    private static async Task<string> ExpectProblemAsync(HttpClient client, HttpStatusCode status, string code)
    {
        var body = await client.ExpectAsync(status, HttpMethod.Post, "/api/v1/sessions", new CreateSessionRequest("press-1", "ssh"));
        Assert.Contains($"\"{code}\"", body, StringComparison.Ordinal);
        return body;
    }

    [Fact]
    public void ALookUpThatAWriteOvertook_IsNotKept()
    {
        var cache = new ReadCache();
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
