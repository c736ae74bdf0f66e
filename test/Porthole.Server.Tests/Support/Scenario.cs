using System.Net;
using Porthole.Protocol.Api;

namespace Porthole.Server.Tests.Support;

/// <summary>
/// A small estate for authorization tests: groups plant-1/line-a and plant-2, devices in them, endpoints, and
/// users with differently restricted grants, each with a logged-in token.
/// </summary>
public sealed class Scenario : IAsyncLifetime
{
    public const string Password = "scenario-password-123";

    public InProcessServer Server { get; private set; } = null!;

    public string AdminToken { get; private set; } = "";

    /// <summary>Tokens by username: auditor, operator, tech-plant1, tech-tag, tech-vnc.</summary>
    public Dictionary<string, string> Tokens { get; } = [];

    public async Task InitializeAsync()
    {
        Server = await InProcessServer.StartAsync();
        AdminToken = await Server.AdminTokenAsync();
        using var admin = Server.Client(AdminToken);

        // d-line-a sits in a subgroup of plant-1; d-plant2 in plant-2; d-tagged in no group but tagged line-a.
        await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices", new CreateDeviceRequest("d-line-a", "plant-1/line-a"));
        await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices", new CreateDeviceRequest("d-plant2", "plant-2"));
        await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices", new CreateDeviceRequest("d-tagged", null, ["line-a"]));
        foreach (var device in new[] { "d-line-a", "d-plant2", "d-tagged" })
        {
            await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, $"/api/v1/devices/{device}/endpoints", new CreateEndpointRequest("ssh", "127.0.0.1", 22, "ssh"));
        }

        await AddUserAsync(admin, "auditor", "Auditor");
        await AddUserAsync(admin, "operator", "Operator");
        await AddUserAsync(admin, "tech-plant1", "Technician", new AddGrantRequest("Technician", Groups: ["plant-1"]));
        await AddUserAsync(admin, "tech-tag", "Technician", new AddGrantRequest("Technician", Tags: ["line-a"]));
        await AddUserAsync(admin, "tech-vnc", "Technician", new AddGrantRequest("Technician", Devices: ["d-plant2"], Actions: ["vnc"]));
    }

    private async Task AddUserAsync(HttpClient admin, string username, string role, AddGrantRequest? restrictedGrant = null)
    {
        var roles = restrictedGrant is null ? new[] { role } : [];
        await admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/users", new CreateUserRequest(username, Password, roles));
        if (restrictedGrant is not null)
        {
            await admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, $"/api/v1/users/{username}/grants", restrictedGrant);
        }

        Tokens[username] = await Server.LoginAsync(username, Password);
    }

    public HttpClient As(string username) => Server.Client(username == "admin" ? AdminToken : Tokens[username]);

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
