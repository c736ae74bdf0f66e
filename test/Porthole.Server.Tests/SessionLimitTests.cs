using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Porthole.Protocol.Api;
using Porthole.Server.Relay;
using Porthole.Server.Tests.Support;

namespace Porthole.Server.Tests;

/// <summary>Per-user and per-device limits on open sessions, checked before the agent is asked.</summary>
public sealed class SessionLimitTests
{
    private static SessionTarget Target(string deviceId, string userId) =>
        new(deviceId, "d", "e", "ssh", "127.0.0.1", 22, userId, "someone", "ssh", "tunnel", null);

    [Fact]
    public async Task OpeningBeyondTheUserLimit_IsRefusedWithTheLimit()
    {
        await using var server = await InProcessServer.StartAsync(null, "--Porthole:MaxSessionsPerUser=2");
        using var admin = server.Client(await server.AdminTokenAsync());
        await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices", new CreateDeviceRequest("gw"));
        await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices/gw/endpoints", new CreateEndpointRequest("ssh", "127.0.0.1", 22, "ssh"));
        var me = Api.Read<UserDto>(await admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/users/admin"));

        // Under the limit the request gets as far as the device (offline here).
        await admin.ExpectAsync(HttpStatusCode.Conflict, HttpMethod.Post, "/api/v1/sessions", new CreateSessionRequest("gw", "ssh"));

        var broker = server.App.Services.GetRequiredService<ISessionBroker>();
        broker.Create(Target("elsewhere-1", me.Id));
        broker.Create(Target("elsewhere-2", me.Id));
        var text = await admin.ExpectAsync(HttpStatusCode.TooManyRequests, HttpMethod.Post, "/api/v1/sessions", new CreateSessionRequest("gw", "ssh"));

        Assert.Contains("you already have 2 open sessions", text, StringComparison.Ordinal);
        Assert.Contains("session-limit", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpeningBeyondTheDeviceLimit_IsRefusedNamingTheDevice()
    {
        await using var server = await InProcessServer.StartAsync(null, "--Porthole:MaxSessionsPerDevice=1");
        using var admin = server.Client(await server.AdminTokenAsync());
        var device = Api.Read<CreateDeviceResponse>(await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices", new CreateDeviceRequest("busy")));
        await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices/busy/endpoints", new CreateEndpointRequest("ssh", "127.0.0.1", 22, "ssh"));

        server.App.Services.GetRequiredService<ISessionBroker>().Create(Target(device.Id, "another-user"));
        var text = await admin.ExpectAsync(HttpStatusCode.TooManyRequests, HttpMethod.Post, "/api/v1/sessions", new CreateSessionRequest("busy", "ssh"));

        Assert.Contains("device 'busy' already carries 1 open sessions", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ZeroLimit_StopsTheServerAtStartWithAClearMessage()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => InProcessServer.StartAsync(null, "--Porthole:MaxSessionsPerUser=0"));

        Assert.Contains("MaxSessionsPerUser", error.Message, StringComparison.Ordinal);
    }
}
