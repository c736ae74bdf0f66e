using System.Net;
using Porthole.Protocol.Api;
using Porthole.Server.Tests.Support;

namespace Porthole.Server.Tests;

/// <summary>Route segments name a device by id or by name; the lookup takes one query, and an id still wins.</summary>
public sealed class DeviceLookupTests
{
    [Fact]
    public async Task DeviceSegment_FindsByIdOrName_AndAnIdWinsOverAnotherDevicesEqualName()
    {
        await using var server = await InProcessServer.StartAsync();
        using var admin = server.Client(await server.AdminTokenAsync());
        var first = Api.Read<CreateDeviceResponse>(await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices", new CreateDeviceRequest("gw-first")));

        // A second device whose name is the first one's id: the segment must still mean the first device.
        var second = Api.Read<CreateDeviceResponse>(await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices", new CreateDeviceRequest(first.Id)));

        Assert.Equal("gw-first", Api.Read<DeviceDto>(await admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, $"/api/v1/devices/{first.Id}")).Name);
        Assert.Equal(first.Id, Api.Read<DeviceDto>(await admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/devices/gw-first")).Id);
        Assert.Equal(first.Id, Api.Read<DeviceDto>(await admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, $"/api/v1/devices/{second.Id}")).Name);
        await admin.ExpectAsync(HttpStatusCode.NotFound, HttpMethod.Get, "/api/v1/devices/no-such-device");
    }
}
