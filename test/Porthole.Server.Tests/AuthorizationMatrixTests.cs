using System.Net;
using Porthole.Protocol.Api;
using Porthole.Server.Tests.Support;

namespace Porthole.Server.Tests;

/// <summary>Role × route × resource: who may do what to which device, and whether a refusal is 403 or 404.</summary>
public sealed class AuthorizationMatrixTests(Scenario scenario) : IClassFixture<Scenario>
{
    private static readonly HttpMethod Get = HttpMethod.Get;
    private static readonly HttpMethod Post = HttpMethod.Post;
    private static readonly HttpMethod Patch = HttpMethod.Patch;
    private static readonly HttpMethod Delete = HttpMethod.Delete;

    public static TheoryData<string, string, string, string, int> Matrix => new()
    {
        // user, method, path, body (key into Bodies), expected status
        { "auditor", "GET", "/api/v1/devices/d-plant2", "", 200 },
        { "auditor", "GET", "/api/v1/devices/d-plant2/endpoints", "", 200 },
        { "auditor", "GET", "/api/v1/audit", "", 200 },
        { "auditor", "POST", "/api/v1/devices", "new-device", 403 },
        { "auditor", "GET", "/api/v1/users", "", 403 },
        { "auditor", "POST", "/api/v1/devices/d-plant2/endpoints", "new-endpoint", 403 },
        { "auditor", "POST", "/api/v1/sessions", "session-plant2", 403 },
        { "operator", "POST", "/api/v1/devices/d-plant2/endpoints", "new-endpoint", 201 },
        { "operator", "PATCH", "/api/v1/devices/d-plant2/endpoints/ssh", "describe", 200 },
        { "operator", "POST", "/api/v1/sessions", "session-plant2", 409 },
        { "operator", "DELETE", "/api/v1/devices/d-plant2", "", 403 },
        { "operator", "GET", "/api/v1/audit", "", 403 },
        { "operator", "POST", "/api/v1/roles", "new-role", 403 },
        { "tech-plant1", "GET", "/api/v1/devices/d-line-a", "", 200 },
        { "tech-plant1", "GET", "/api/v1/devices/d-plant2", "", 404 },
        { "tech-plant1", "GET", "/api/v1/devices/d-tagged", "", 404 },
        { "tech-plant1", "GET", "/api/v1/devices/d-plant2/endpoints", "", 404 },
        { "tech-plant1", "POST", "/api/v1/sessions", "session-line-a", 409 },
        { "tech-plant1", "POST", "/api/v1/sessions", "session-plant2", 404 },
        { "tech-plant1", "POST", "/api/v1/devices/d-line-a/endpoints", "new-endpoint", 403 },
        { "tech-tag", "GET", "/api/v1/devices/d-tagged", "", 200 },
        { "tech-tag", "GET", "/api/v1/devices/d-line-a", "", 404 },
        { "tech-tag", "POST", "/api/v1/sessions", "session-tagged", 409 },
        { "tech-vnc", "GET", "/api/v1/devices/d-plant2/endpoints/ssh", "", 200 },
        { "tech-vnc", "POST", "/api/v1/sessions", "session-plant2", 403 },
        { "tech-vnc", "POST", "/api/v1/sessions", "session-plant2-vnc", 409 },
        { "tech-vnc", "GET", "/api/v1/devices/d-line-a", "", 404 },
    };

    private static object? Body(string key) => key switch
    {
        "" => null,
        "new-device" => new CreateDeviceRequest("never-" + Guid.NewGuid().ToString("N")[..6]),
        "new-endpoint" => new CreateEndpointRequest("ep-" + Guid.NewGuid().ToString("N")[..6], "10.0.0.1", 80, "http"),
        "describe" => new UpdateEndpointRequest(Description: "checked"),
        "new-role" => new CreateRoleRequest("r-" + Guid.NewGuid().ToString("N")[..6], ["devices:read"]),
        "session-plant2" => new CreateSessionRequest("d-plant2", "ssh"),
        "session-plant2-vnc" => new CreateSessionRequest("d-plant2", "ssh", "vnc"),
        "session-line-a" => new CreateSessionRequest("d-line-a", "ssh"),
        "session-tagged" => new CreateSessionRequest("d-tagged", "ssh"),
        _ => throw new ArgumentException(key),
    };

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Route_AnswersAsTheMatrixSays(string user, string method, string path, string body, int expected)
    {
        using var client = scenario.As(user);

        using var response = await client.SendAsync(new HttpMethod(method), path, Body(body));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == expected, $"{user} {method} {path}: expected {expected}, got {(int)response.StatusCode} {text}");
        if (expected is 403 or 404 or 409)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Denied_NamesTheMissingPermissionAndResource_AndIsAudited()
    {
        using var client = scenario.As("tech-vnc");

        var text = await client.ExpectAsync(HttpStatusCode.Forbidden, Post, "/api/v1/sessions", new CreateSessionRequest("d-plant2", "ssh", "tunnel"));

        Assert.Contains("Access denied: remote-access:connect (tunnel) on d-plant2", text, StringComparison.Ordinal);
        using var admin = scenario.As("admin");
        var audit = Api.Read<AuditPage>(await admin.ExpectAsync(HttpStatusCode.OK, Get, "/api/v1/audit?action=access.denied&user=tech-vnc"));
        Assert.Contains(audit.Entries, e => e.Detail!.Contains("remote-access:connect (tunnel) on d-plant2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RoutePolicyDenial_NamesThePermission()
    {
        using var client = scenario.As("auditor");

        var text = await client.ExpectAsync(HttpStatusCode.Forbidden, Post, "/api/v1/devices", new CreateDeviceRequest("nope"));

        Assert.Contains("devices:manage", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tech-plant1", new[] { "d-line-a" })]
    [InlineData("tech-tag", new[] { "d-tagged" })]
    [InlineData("tech-vnc", new[] { "d-plant2" })]
    [InlineData("auditor", new[] { "d-line-a", "d-plant2", "d-tagged" })]
    public async Task DeviceList_ShowsOnlyDevicesInScope(string user, string[] expected)
    {
        using var client = scenario.As(user);

        var devices = Api.Read<List<DeviceDto>>(await client.ExpectAsync(HttpStatusCode.OK, Get, "/api/v1/devices"));

        Assert.Equal(expected, devices.Select(d => d.Name).Where(n => n.StartsWith("d-", StringComparison.Ordinal)).Order());
    }

    [Fact]
    public async Task ScopedToken_CanOnlyUseItsScopes()
    {
        using var admin = scenario.As("admin");
        var created = Api.Read<CreateTokenResponse>(await admin.ExpectAsync(HttpStatusCode.Created, Post, "/api/v1/tokens", new CreateTokenRequest("read-only", ["devices:read"], 7)));
        using var scoped = scenario.Server.Client(created.Token);

        await scoped.ExpectAsync(HttpStatusCode.OK, Get, "/api/v1/devices");
        await scoped.ExpectAsync(HttpStatusCode.Forbidden, Post, "/api/v1/devices", new CreateDeviceRequest("scoped-" + Guid.NewGuid().ToString("N")[..6]));
        await scoped.ExpectAsync(HttpStatusCode.Forbidden, Get, "/api/v1/audit");
    }

    [Fact]
    public async Task Token_CannotWidenItsUsersRights()
    {
        using var client = scenario.As("tech-plant1");

        var text = await client.ExpectAsync(HttpStatusCode.BadRequest, Post, "/api/v1/tokens", new CreateTokenRequest("wider", ["users:manage"]));

        Assert.Contains("users:manage", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RevokedToken_IsRejectedAtOnce()
    {
        using var admin = scenario.As("admin");
        var created = Api.Read<CreateTokenResponse>(await admin.ExpectAsync(HttpStatusCode.Created, Post, "/api/v1/tokens", new CreateTokenRequest("short-lived")));
        using var client = scenario.Server.Client(created.Token);
        await client.ExpectAsync(HttpStatusCode.OK, Get, "/api/v1/devices");

        await admin.ExpectAsync(HttpStatusCode.NoContent, Delete, "/api/v1/tokens/" + created.Details.Id);

        var text = await client.ExpectAsync(HttpStatusCode.Unauthorized, Get, "/api/v1/devices");
        Assert.Contains("revoked", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuiltInRoles_CannotBeChanged()
    {
        using var admin = scenario.As("admin");

        await admin.ExpectAsync(HttpStatusCode.Conflict, Patch, "/api/v1/roles/Technician", new UpdateRoleRequest(["users:manage"]));
        await admin.ExpectAsync(HttpStatusCode.Conflict, Delete, "/api/v1/roles/Administrator");
    }
}
