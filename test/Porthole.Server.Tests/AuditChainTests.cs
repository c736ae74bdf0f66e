using System.Net;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Porthole.Protocol.Api;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Tests.Support;

namespace Porthole.Server.Tests;

/// <summary>The audit log is a hash chain: verification passes on an honest log and names the first tampered record.</summary>
public sealed class AuditChainTests : IAsyncLifetime
{
    private InProcessServer _server = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _server = await InProcessServer.StartAsync();
        _admin = _server.Client(await _server.AdminTokenAsync());
        for (var i = 0; i < 5; i++)
        {
            await _admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices", new CreateDeviceRequest($"gw-{i}", "site"));
        }
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _server.DisposeAsync();
    }

    private async Task<AuditVerification> VerifyAsync() =>
        Api.Read<AuditVerification>(await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/audit/verify"));

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={_server.DatabasePath}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    [Fact]
    public async Task Verify_OnAnHonestLog_IsIntact()
    {
        var result = await VerifyAsync();

        Assert.True(result.Intact, result.Reason);
        Assert.True(result.Records >= 6, $"expected login and 5 registrations, found {result.Records}");
    }

    [Fact]
    public async Task RecordsOfBothWritePaths_ReadBackAsWritten_AndTheChainHolds()
    {
        // A record alone takes one statement past the change tracker; one with other pending changes is saved with them.
        await using (var scope = _server.App.Services.CreateAsyncScope())
        {
            var audit = scope.ServiceProvider.GetRequiredService<AuditLog>();
            await audit.WriteAsync("user:admin", "test.alone", null);
            await audit.WriteAsync("user:admin", "test.alone", "device:gw-0/ssh", AuditOutcomes.Failure, "détail ✓ 'quoted'", "127.0.0.1");
        }

        await using (var scope = _server.App.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PortholeDbContext>();
            db.DeviceGroups.Add(new DeviceGroup { Id = Guid.NewGuid().ToString("N"), Name = "plant-9" });
            await scope.ServiceProvider.GetRequiredService<AuditLog>().WriteAsync("user:admin", "test.with-changes", "group:plant-9");
            Assert.True(await db.DeviceGroups.AsNoTracking().AnyAsync(g => g.Name == "plant-9"));
        }

        var verification = await VerifyAsync();
        Assert.True(verification.Intact, verification.Reason);
        var page = Api.Read<AuditPage>(await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/audit?action=test&pageSize=10"));
        Assert.Equal(["test.with-changes", "test.alone", "test.alone"], page.Entries.Select(e => e.Action));
        var detailed = page.Entries[1];
        Assert.Equal(("device:gw-0/ssh", "failure", "détail ✓ 'quoted'", "127.0.0.1"), (detailed.Target, detailed.Outcome, detailed.Detail, detailed.ClientAddress));
        Assert.Null(page.Entries[2].Target);
        Assert.True(page.Entries[0].Sequence == page.Entries[1].Sequence + 1 && page.Entries[1].Sequence == page.Entries[2].Sequence + 1);
        Assert.InRange(DateTimeOffset.UtcNow - page.Entries[2].At, TimeSpan.Zero, TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task Verify_AfterARecordIsEdited_NamesThatRecord()
    {
        await ExecuteAsync("UPDATE AuditEntries SET Detail = 'nothing to see' WHERE Sequence = 3");

        var result = await VerifyAsync();

        Assert.False(result.Intact);
        Assert.Equal(3, result.BrokenAt);
        Assert.Contains("edited", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_AfterARecordIsDeleted_NamesTheGap()
    {
        await ExecuteAsync("DELETE FROM AuditEntries WHERE Sequence = 4");

        var result = await VerifyAsync();

        Assert.False(result.Intact);
        Assert.Equal(5, result.BrokenAt);
    }

    [Fact]
    public async Task Verify_AfterTheLastRecordIsDeleted_NamesTheGapAtTheNextAppend()
    {
        // The server keeps the chain's head rather than re-reading the table per append: a record cut from the end is
        // not papered over by the next append linking to whatever is last now.
        var before = await VerifyAsync();
        await ExecuteAsync("DELETE FROM AuditEntries WHERE Sequence = (SELECT MAX(Sequence) FROM AuditEntries)");
        Assert.True((await VerifyAsync()).Intact, "a log cut at its end still verifies until the next append");

        await _admin.ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "/api/v1/devices", new CreateDeviceRequest("gw-after", "site"));

        var result = await VerifyAsync();
        Assert.False(result.Intact);
        Assert.Equal(before.Records + 1, result.BrokenAt);
        Assert.Contains("missing", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_GivesCsvAndJsonLinesWithTheSameRecords()
    {
        var csv = await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/audit/export?format=csv&action=device");
        var jsonl = await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/audit/export?format=jsonl&action=device");

        var csvRows = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var jsonRows = jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Api.Read<AuditEntryDto>).ToList();
        Assert.Equal("sequence,at,actor,action,target,outcome,detail,client_address,hash", csvRows[0]);
        Assert.Equal(5, jsonRows.Count);
        Assert.Equal(jsonRows.Count, csvRows.Length - 1);
        Assert.All(jsonRows, r => Assert.Equal("device.register", r.Action));
    }

    [Fact]
    public async Task List_FiltersAndPages()
    {
        var page = Api.Read<AuditPage>(await _admin.ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "/api/v1/audit?action=device.register&pageSize=2&page=2"));

        Assert.Equal(5, page.Total);
        Assert.Equal(2, page.Entries.Count);
        Assert.True(page.Entries[0].Sequence > page.Entries[1].Sequence, "newest first");
        await _admin.ExpectAsync(HttpStatusCode.BadRequest, HttpMethod.Get, "/api/v1/audit?pageSize=100000");
    }
}
