using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Porthole.Protocol.Api;
using Porthole.Server.Hosting;
using Porthole.Server.Relay;
using Porthole.Server.Tests.Support;

namespace Porthole.Server.Tests;

/// <summary>Session limits per role (Porthole:RoleLimits:&lt;Role&gt;:…), without any schema change.</summary>
public sealed class RoleLimitTests
{
    private static PortholeServerOptions Options() => new()
    {
        SessionIdleTimeout = TimeSpan.FromHours(1),
        SessionMaxLifetime = TimeSpan.FromHours(12),
        MaxSessionsPerUser = 50,
        RoleLimits =
        {
            ["Technician"] = new RoleSessionLimits { SessionMaxLifetime = TimeSpan.FromMinutes(30), MaxSessionsPerUser = 2 },
            ["Contractor"] = new RoleSessionLimits { SessionIdleTimeout = TimeSpan.FromMinutes(5), SessionMaxLifetime = TimeSpan.FromHours(1) },
        },
    };

    [Fact]
    public void LimitsFor_ARoleWithLimits_UsesThemAndTheGlobalValueForWhatItLeavesOut()
    {
        var limits = Options().LimitsFor(["technician"]);

        Assert.Equal(new SessionLimits(TimeSpan.FromHours(1), TimeSpan.FromMinutes(30), 2), limits);
    }

    [Fact]
    public void LimitsFor_SeveralRoles_TakesTheMostGenerousValueOfEach()
    {
        var limits = Options().LimitsFor(["Technician", "Contractor"]);

        Assert.Equal(new SessionLimits(TimeSpan.FromHours(1), TimeSpan.FromHours(1), 50), limits);
    }

    [Fact]
    public void LimitsFor_NoRoleOrAnUnlimitedRole_IsTheGlobalLimits()
    {
        var global = new SessionLimits(TimeSpan.FromHours(1), TimeSpan.FromHours(12), 50);

        Assert.Equal(global, Options().LimitsFor([]));
        Assert.Equal(global, Options().LimitsFor(["Technician", "Operator"]));
    }

    [Fact]
    public async Task TechnicianBeyondTheRoleSessionLimit_IsRefused_WhileAnAdministratorIsNot()
    {
        await using var server = await InProcessServer.StartAsync(null, "--Porthole:RoleLimits:Technician:MaxSessionsPerUser=1");
        using var admin = server.Client(await server.AdminTokenAsync());
        await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices", new CreateDeviceRequest("gw"));
        await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices/gw/endpoints", new CreateEndpointRequest("ssh", "127.0.0.1", 22, "ssh"));
        await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/users", new CreateUserRequest("tech", "field-engineer-pw-1", ["Technician"]));
        using var tech = server.Client(await server.LoginAsync("tech", "field-engineer-pw-1"));
        var techId = Api.Read<UserDto>(await admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/users/tech")).Id;
        var adminId = Api.Read<UserDto>(await admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/users/admin")).Id;

        // Under the limit the request gets as far as the device (offline here).
        await tech.ExpectAsync(HttpStatusCode.Conflict, HttpMethod.Post, "/api/v1/sessions", new CreateSessionRequest("gw", "ssh"));

        var broker = server.App.Services.GetRequiredService<ISessionBroker>();
        broker.Create(new SessionTarget("elsewhere", "d", "e", "ssh", "127.0.0.1", 22, techId, "tech", "ssh", "tunnel", null));
        broker.Create(new SessionTarget("elsewhere", "d", "e", "ssh", "127.0.0.1", 22, adminId, "admin", "ssh", "tunnel", null));
        var refused = await tech.ExpectAsync(HttpStatusCode.TooManyRequests, HttpMethod.Post, "/api/v1/sessions", new CreateSessionRequest("gw", "ssh"));
        Assert.Contains("you already have 1 open sessions", refused, StringComparison.Ordinal);
        await admin.ExpectAsync(HttpStatusCode.Conflict, HttpMethod.Post, "/api/v1/sessions", new CreateSessionRequest("gw", "ssh"));
    }

    [Fact]
    public async Task ANonPositiveRoleLimit_StopsTheServerAtStartNamingTheRole()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => InProcessServer.StartAsync(null, "--Porthole:RoleLimits:Technician:SessionMaxLifetime=00:00:00"));

        Assert.Contains("Porthole:RoleLimits:Technician", error.Message, StringComparison.Ordinal);
    }
}
