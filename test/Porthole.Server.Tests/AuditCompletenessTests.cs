using System.Net;
using Porthole.Protocol.Api;
using Porthole.Server.Tests.Support;

namespace Porthole.Server.Tests;

/// <summary>
/// Every state-changing route leaves an audit record, and no record or listing ever carries a secret. The
/// routes come from the app's endpoint data source, so a new route fails this test until it is covered.
/// </summary>
public sealed class AuditCompletenessTests : IAsyncLifetime
{
    private const string UserPassword = "s3cret-passphrase-x";
    private const string VaultPassword = "stored-device-password-1";
    private InProcessServer _server = null!;
    private HttpClient _admin = null!;
    private readonly List<string> _secrets = [];

    public async Task InitializeAsync()
    {
        _server = await InProcessServer.StartAsync();
        var token = await _server.AdminTokenAsync();
        _secrets.Add(token);
        _admin = _server.Client(token);
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _server.DisposeAsync();
    }

    private sealed record Step(string Route, string AuditAction, Func<Task<string>> Run);

    [Fact]
    public async Task EveryStateChangingRoute_IsAudited_AndNoSecretIsEverRecorded()
    {
        var a = _admin;
        string enrolment = "", grantId = "", tokenId = "";
        var steps = new List<Step>
        {
            new("POST /api/v1/auth/login", "auth.login", async () => { var t = await _server.AdminTokenAsync(); _secrets.Add(t); return t; }),
            new("POST /api/v1/devices", "device.register", async () =>
            {
                var body = await a.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices", new CreateDeviceRequest("gw", "site/hall", ["t1"]));
                enrolment = Api.Read<CreateDeviceResponse>(body).EnrolmentToken;
                _secrets.Add(enrolment);
                return body;
            }),
            new("POST /api/v1/devices/{device}/enrolment-token", "device.enrolment-reissued", async () =>
            {
                var body = await a.ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, "/api/v1/devices/gw/enrolment-token");
                enrolment = Api.Read<CreateDeviceResponse>(body).EnrolmentToken;
                _secrets.Add(enrolment);
                return body;
            }),
            new("POST /api/v1/agent/enrol", "device.enrol", async () =>
            {
                var body = await _server.Client().ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, "/api/v1/agent/enrol", new EnrolRequest(enrolment, "1.0", "host"));
                _secrets.Add(Api.Read<EnrolResponse>(body).Credential);
                return body;
            }),
            new("PATCH /api/v1/devices/{device}", "device.update", () => a.ExpectAsync(HttpStatusCode.OK, HttpMethod.Patch, "/api/v1/devices/gw", new UpdateDeviceRequest(Tags: ["t2"]))),
            new("POST /api/v1/devices/{device}/endpoints", "endpoint.add", () => a.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices/gw/endpoints", new CreateEndpointRequest("ssh", "127.0.0.1", 22, "ssh"))),
            new("PATCH /api/v1/devices/{device}/endpoints/{endpoint}", "endpoint.update", () => a.ExpectAsync(HttpStatusCode.OK, HttpMethod.Patch, "/api/v1/devices/gw/endpoints/ssh", new UpdateEndpointRequest(Port: 2222))),
            new("PUT /api/v1/devices/{device}/endpoints/{endpoint}/credential", "endpoint.credential-set", () =>
                a.ExpectAsync(HttpStatusCode.OK, HttpMethod.Put, "/api/v1/devices/gw/endpoints/ssh/credential", new SetCredentialRequest("ssh-password", "root", VaultPassword))),
            new("DELETE /api/v1/devices/{device}/endpoints/{endpoint}/ssh-host-key", "endpoint.ssh-host-key-forget", () =>
                a.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Delete, "/api/v1/devices/gw/endpoints/ssh/ssh-host-key")),
            new("POST /api/v1/sessions", "session.open", () => a.ExpectAsync(HttpStatusCode.Conflict, HttpMethod.Post, "/api/v1/sessions", new CreateSessionRequest("gw", "ssh"))),
            new("POST /api/v1/web-sessions", "session.open", () => a.ExpectAsync(HttpStatusCode.Conflict, HttpMethod.Post, "/api/v1/web-sessions", new CreateWebSessionRequest("gw", "ssh"))),
            new("DELETE /api/v1/devices/{device}/endpoints/{endpoint}/credential", "endpoint.credential-clear", () =>
                a.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Delete, "/api/v1/devices/gw/endpoints/ssh/credential")),
            new("DELETE /api/v1/sessions/{sessionId}", "session.terminate", () => a.ExpectAsync(HttpStatusCode.NotFound, HttpMethod.Delete, "/api/v1/sessions/no-such-session")),
            new("POST /api/v1/roles", "role.create", () => a.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/roles", new CreateRoleRequest("viewer", ["devices:read"]))),
            new("PATCH /api/v1/roles/{role}", "role.update", () => a.ExpectAsync(HttpStatusCode.OK, HttpMethod.Patch, "/api/v1/roles/viewer", new UpdateRoleRequest(["devices:read", "remote-access:read"]))),
            new("POST /api/v1/users", "user.create", () => a.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/users", new CreateUserRequest("erin", UserPassword))),
            new("POST /api/v1/users/{user}/grants", "user.grant-add", async () =>
            {
                var body = await a.ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, "/api/v1/users/erin/grants", new AddGrantRequest("viewer", Groups: ["site"]));
                grantId = Api.Read<UserDto>(body).Grants.Single().Id;
                return body;
            }),
            new("DELETE /api/v1/users/{user}/grants/{grant}", "user.grant-remove", () => a.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Delete, $"/api/v1/users/erin/grants/{grantId}")),
            new("PATCH /api/v1/users/{user}", "user.update", () => a.ExpectAsync(HttpStatusCode.OK, HttpMethod.Patch, "/api/v1/users/erin", new UpdateUserRequest(Password: UserPassword + "-2"))),
            new("POST /api/v1/auth/password", "auth.password-change", () => _server.Client().ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Post, "/api/v1/auth/password", new ChangePasswordRequest("erin", UserPassword + "-2", UserPassword + "-3"))),
            new("DELETE /api/v1/users/{user}", "user.remove", () => a.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Delete, "/api/v1/users/erin")),
            new("DELETE /api/v1/roles/{role}", "role.remove", () => a.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Delete, "/api/v1/roles/viewer")),
            new("POST /api/v1/tokens", "token.create", async () =>
            {
                var body = await a.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/tokens", new CreateTokenRequest("ci", ["devices:read"]));
                var created = Api.Read<CreateTokenResponse>(body);
                tokenId = created.Details.Id;
                _secrets.Add(created.Token);
                return body;
            }),
            new("DELETE /api/v1/tokens/{token}", "token.revoke", () => a.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Delete, "/api/v1/tokens/" + tokenId)),
            new("POST /api/v1/groups", "group.create", () => a.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/groups", new CreateGroupRequest("empty/leaf"))),
            new("DELETE /api/v1/groups/{**path}", "group.remove", () => a.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Delete, "/api/v1/groups/empty/leaf")),
            new("PUT /api/v1/remote-access/rules", "remote-access.stage", () => a.ExpectAsync(HttpStatusCode.OK, HttpMethod.Put, "/api/v1/remote-access/rules", new StageRuleRequest("tag", "t2", false))),
            new("POST /api/v1/remote-access/commit", "remote-access.commit", () => a.ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, "/api/v1/remote-access/commit")),
            new("POST /api/v1/remote-access/discard", "remote-access.discard", () => a.ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, "/api/v1/remote-access/discard")),
            new("DELETE /api/v1/devices/{device}/endpoints/{endpoint}", "endpoint.remove", () => a.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Delete, "/api/v1/devices/gw/endpoints/ssh")),
            new("DELETE /api/v1/devices/{device}", "device.remove", () => a.ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Delete, "/api/v1/devices/gw")),
            new("POST /api/v1/auth/logout", "token.revoke", async () =>
            {
                var token = await _server.AdminTokenAsync();
                _secrets.Add(token);
                return await _server.Client(token).ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Post, "/api/v1/auth/logout");
            }),
        };

        string[] mutating = ["POST", "PUT", "PATCH", "DELETE"];
        var routes = RouteCatalogTests.Routes(_server.App.Services).Select(r => r.Route).Where(r => mutating.Contains(r.Split(' ')[0])).Distinct().Order().ToList();
        Assert.Equal(routes, steps.Select(s => s.Route).Order().ToList());

        var responses = new List<string>();
        foreach (var step in steps)
        {
            var before = await LatestSequenceAsync();
            responses.Add(await step.Run());
            var added = Api.Read<AuditPage>(await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/audit?pageSize=50")).Entries.Where(e => e.Sequence > before).ToList();
            Assert.True(added.Any(e => e.Action == step.AuditAction), $"{step.Route} left no '{step.AuditAction}' record; it left: {string.Join(", ", added.Select(e => e.Action))}");
        }

        var everything = await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/audit/export?format=jsonl")
            + await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/users")
            + await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/tokens")
            + await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/devices");
        foreach (var secret in _secrets.Concat([VaultPassword, UserPassword, UserPassword + "-2", UserPassword + "-3", InProcessServer.AdminPassword]))
        {
            Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("pat_", everything, StringComparison.Ordinal);
        Assert.DoesNotContain("pte_", everything, StringComparison.Ordinal);
        Assert.DoesNotContain("ptd_", everything, StringComparison.Ordinal);
        Assert.True(Api.Read<AuditVerification>(await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/audit/verify")).Intact);
    }

    private async Task<long> LatestSequenceAsync() =>
        Api.Read<AuditPage>(await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/audit?pageSize=1")).Entries.Single().Sequence;
}
