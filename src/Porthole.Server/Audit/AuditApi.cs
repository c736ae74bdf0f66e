using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Porthole.Protocol.Api;
using Porthole.Server.Data;
using Porthole.Server.Http;
using Porthole.Server.Identity;

namespace Porthole.Server.Audit;

/// <summary><c>/api/v1/audit</c>: query, export and verify the audit log. Needs <c>audit:read</c>.</summary>
public static class AuditApi
{
    private const int MaxPageSize = 1000;

    public static void MapAuditApi(this IEndpointRouteBuilder api)
    {
        var audit = api.MapGroup("/audit").WithTags("Audit").RequireAuthorization(Permissions.AuditRead);
        audit.MapGet("/", ListAsync);
        audit.MapGet("/export", ExportAsync);
        audit.MapGet("/verify", VerifyAsync);
    }

    private static async Task<Results<Ok<AuditPage>, ProblemHttpResult>> ListAsync(
        [AsParameters] AuditFilter filter, PortholeDbContext db, int? page, int? pageSize, CancellationToken cancellationToken)
    {
        var size = pageSize ?? 100;
        var number = page ?? 1;
        if (size is < 1 or > MaxPageSize || number < 1)
        {
            return ApiProblem.Validation($"page must be at least 1 and pageSize between 1 and {MaxPageSize}");
        }

        var matching = (await LoadAsync(db, cancellationToken)).Where(filter.Matches).ToList();
        var entries = matching.OrderByDescending(e => e.Sequence).Skip((number - 1) * size).Take(size).Select(ToDto).ToList();
        return TypedResults.Ok(new AuditPage(entries, number, size, matching.Count));
    }

    private static async Task<IResult> ExportAsync([AsParameters] AuditFilter filter, string? format, PortholeDbContext db, CancellationToken cancellationToken)
    {
        var entries = (await LoadAsync(db, cancellationToken)).Where(filter.Matches).OrderBy(e => e.Sequence).Select(ToDto).ToList();
        switch (format ?? "jsonl")
        {
            case "jsonl":
                var lines = new StringBuilder();
                foreach (var entry in entries)
                {
                    lines.Append(JsonSerializer.Serialize(entry, ApiJsonContext.Default.AuditEntryDto)).Append('\n');
                }

                return TypedResults.Text(lines.ToString(), "application/jsonl", Encoding.UTF8);

            case "csv":
                var csv = new StringBuilder("sequence,at,actor,action,target,outcome,detail,client_address,hash\n");
                foreach (var e in entries)
                {
                    csv.AppendJoin(',', [
                        e.Sequence.ToString(CultureInfo.InvariantCulture), e.At.ToString("O", CultureInfo.InvariantCulture),
                        Csv(e.Actor), Csv(e.Action), Csv(e.Target), Csv(e.Outcome), Csv(e.Detail), Csv(e.ClientAddress), e.Hash]).Append('\n');
                }

                return TypedResults.Text(csv.ToString(), "text/csv", Encoding.UTF8);

            default:
                return ApiProblem.Validation("format must be csv or jsonl");
        }
    }

    private static async Task<Ok<AuditVerification>> VerifyAsync(PortholeDbContext db, CancellationToken cancellationToken)
    {
        var entries = await db.AuditEntries.AsNoTracking().OrderBy(e => e.Sequence).ToListAsync(cancellationToken);
        var broken = AuditChain.Verify(entries);
        return TypedResults.Ok(new AuditVerification(broken is null, entries.Count, broken?.Sequence, broken?.Reason));
    }

    // SQLite cannot compare DateTimeOffset in SQL; the log is filtered in memory. A PostgreSQL deployment filters in SQL.
    private static Task<List<AuditEntry>> LoadAsync(PortholeDbContext db, CancellationToken cancellationToken) =>
        db.AuditEntries.AsNoTracking().ToListAsync(cancellationToken);

    /// <summary>Quotes a CSV field (RFC 4180) and defuses spreadsheet formulas.</summary>
    private static string Csv(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        var text = value[0] is '=' or '+' or '-' or '@' ? "'" + value : value;
        return "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    private static AuditEntryDto ToDto(AuditEntry e) => new(e.Sequence, e.At, e.Actor, e.Action, e.Target, e.Outcome, e.Detail, e.ClientAddress, e.Hash);
}

/// <summary>Audit query filters: time range, user, device, event type (action prefix) and outcome.</summary>
public sealed record AuditFilter(DateTimeOffset? From, DateTimeOffset? To, string? User, string? Device, string? Action, string? Outcome)
{
    public bool Matches(AuditEntry e) =>
        (From is null || e.At >= From)
        && (To is null || e.At < To)
        && (User is null || e.Actor == "user:" + User)
        && (Device is null || e.Target == "device:" + Device || (e.Target?.StartsWith($"device:{Device}/", StringComparison.Ordinal) ?? false) || e.Actor == "device:" + Device)
        && (Action is null || e.Action == Action || e.Action.StartsWith(Action + ".", StringComparison.Ordinal))
        && (Outcome is null || e.Outcome == Outcome);
}
