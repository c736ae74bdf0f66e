using System.CommandLine;
using System.Globalization;
using Porthole.Cli.Api;
using Porthole.Cli.Configuration;
using Porthole.Cli.Output;
using Porthole.Protocol.Api;

namespace Porthole.Cli.Commands;

/// <summary><c>porthole audit list|export|verify</c>: read the hash-chained audit log (needs audit:read).</summary>
public static class AuditCommands
{
    /// <summary>The <c>audit</c> command group.</summary>
    public static Command Build(GlobalOptions global)
    {
        var audit = new Command("audit", "Query, export and verify the audit log");
        audit.Subcommands.Add(BuildList(global));
        audit.Subcommands.Add(BuildExport(global));
        audit.Subcommands.Add(BuildVerify(global));
        return audit;
    }

    private static Command BuildList(GlobalOptions global)
    {
        var filters = new Filters();
        var page = new Option<int?>("--page") { Description = "Page number, from 1 (newest records first)" };
        var pageSize = new Option<int?>("--page-size") { Description = "Records per page (server default: 100, at most 1000)" };
        var json = OutputOptions.Json();
        var command = new Command("list", "List audit records, newest first") { page, pageSize, json };
        filters.AddTo(command);
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var query = filters.Read(parseResult);
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var result = await api.ListAuditAsync(query, parseResult.GetValue(page), parseResult.GetValue(pageSize), cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(result, ApiJsonContext.Default.AuditPage);
                return ExitCodes.Success;
            }

            var table = new Table("SEQ", "TIME", "ACTOR", "ACTION", "TARGET", "OUTCOME", "DETAIL");
            foreach (var entry in result.Entries)
            {
                table.Add(
                    entry.Sequence.ToString(CultureInfo.InvariantCulture),
                    Formats.Time(entry.At),
                    entry.Actor,
                    entry.Action,
                    Formats.OrDash(entry.Target),
                    entry.Outcome,
                    Formats.OrDash(entry.Detail));
            }

            table.Write(Console.Out);
            var shown = (long)(result.Page - 1) * result.PageSize + result.Entries.Count;
            if (shown < result.Total)
            {
                Console.Out.WriteLine($"({result.Total} records match; this is page {result.Page}, see --page {result.Page + 1} for older ones)");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildExport(GlobalOptions global)
    {
        var filters = new Filters();
        var format = new Option<string>("--format") { Description = "csv or jsonl", DefaultValueFactory = _ => "jsonl" };
        format.AcceptOnlyFromAmong("csv", "jsonl");
        var output = new Option<FileInfo?>("--output", "-o") { Description = "Write to this file instead of stdout" };
        var command = new Command("export", "Export matching audit records, oldest first, exactly as the server sends them") { format, output };
        filters.AddTo(command);
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var query = filters.Read(parseResult);
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            if (parseResult.GetValue(output) is not { } file)
            {
                await using var stdout = Console.OpenStandardOutput();
                await api.ExportAuditAsync(query, parseResult.GetValue(format)!, stdout, cancellationToken);
                return ExitCodes.Success;
            }

            // Written next to the target and moved into place, so a failed export leaves no truncated file behind.
            var partial = file.FullName + ".partial";
            try
            {
                await using (var stream = new FileStream(partial, FileMode.Create, FileAccess.Write))
                {
                    await api.ExportAuditAsync(query, parseResult.GetValue(format)!, stream, cancellationToken);
                }

                File.Move(partial, file.FullName, overwrite: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"cannot write {file.FullName}: {ex.Message}", ex);
            }
            finally
            {
                File.Delete(partial);
            }

            Console.Out.WriteLine($"Audit log exported to {file.FullName}.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildVerify(GlobalOptions global)
    {
        var json = OutputOptions.Json();
        var command = new Command("verify", "Check the audit log's hash chain; exit 1 when it is broken") { json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var result = await api.VerifyAuditAsync(cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(result, ApiJsonContext.Default.AuditVerification);
            }
            else if (result.Intact)
            {
                Console.Out.WriteLine($"Audit log intact: {result.Records} records.");
            }
            else
            {
                Console.Out.WriteLine($"Audit log BROKEN at record {result.BrokenAt}: {result.Reason}");
            }

            return result.Intact ? ExitCodes.Success : ExitCodes.Failure;
        });
        return command;
    }

    /// <summary>The filter options shared by <c>list</c> and <c>export</c> (each command needs its own instances).</summary>
    private sealed class Filters
    {
        private readonly Option<string?> _from = new("--from") { Description = "Only records at or after this time (ISO 8601, UTC unless an offset is given)" };
        private readonly Option<string?> _to = new("--to") { Description = "Only records before this time (ISO 8601)" };
        private readonly Option<string?> _user = new("--user") { Description = "Only records whose actor is this user" };
        private readonly Option<string?> _device = new("--device") { Description = "Only records about or by this device (name)" };
        private readonly Option<string?> _action = new("--action") { Description = "Only this action or family, e.g. auth or auth.login" };
        private readonly Option<string?> _outcome = new("--outcome") { Description = "Only this outcome, e.g. success, failure, denied" };

        public void AddTo(Command command)
        {
            foreach (var option in new[] { _from, _to, _user, _device, _action, _outcome })
            {
                command.Options.Add(option);
            }
        }

        public AuditQuery Read(ParseResult parseResult) => new(
            Time(parseResult.GetValue(_from), "--from"),
            Time(parseResult.GetValue(_to), "--to"),
            parseResult.GetValue(_user),
            parseResult.GetValue(_device),
            parseResult.GetValue(_action),
            parseResult.GetValue(_outcome));

        private static DateTimeOffset? Time(string? value, string option)
        {
            if (value is null)
            {
                return null;
            }

            return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
                ? time
                : throw CliException.Usage($"{option} '{value}' is not a time; use ISO 8601, e.g. 2026-01-31 or 2026-01-31T08:00:00Z");
        }
    }
}
