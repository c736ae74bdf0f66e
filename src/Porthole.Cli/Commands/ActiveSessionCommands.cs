using System.CommandLine;
using Porthole.Cli.Configuration;
using Porthole.Cli.Output;
using Porthole.Protocol.Api;

namespace Porthole.Cli.Commands;

/// <summary><c>porthole sessions list|terminate</c>: the sessions open now (yours, or all you may manage).</summary>
public static class ActiveSessionCommands
{
    /// <summary>The <c>sessions</c> command group.</summary>
    public static Command Build(GlobalOptions global)
    {
        var sessions = new Command("sessions", "List and end open remote-access sessions");
        sessions.Subcommands.Add(BuildList(global));
        sessions.Subcommands.Add(BuildTerminate(global));
        return sessions;
    }

    private static Command BuildList(GlobalOptions global)
    {
        var json = OutputOptions.Json();
        var command = new Command("list", "List open sessions: yours, and others' on devices where you hold sessions:manage") { json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var sessions = await api.ListSessionsAsync(cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(sessions, ApiJsonContext.Default.ListActiveSessionDto);
                return ExitCodes.Success;
            }

            var table = new Table("ID", "USER", "TARGET", "ACTION", "FROM", "OPENED", "STATE");
            foreach (var s in sessions)
            {
                table.Add(s.Id, s.User, $"{s.Device}/{s.Endpoint}", s.Action, Formats.OrDash(s.ClientAddress), Formats.Time(s.OpenedAt), s.Joined ? "active" : "opening");
            }

            table.Write(Console.Out);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildTerminate(GlobalOptions global)
    {
        var id = new Argument<string>("ID") { Description = "Session id from 'porthole sessions list'" };
        var command = new Command("terminate", "End a session; both ends are told who ended it") { id };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            await api.TerminateSessionAsync(parseResult.GetValue(id)!, cancellationToken);
            Console.Out.WriteLine($"Session {parseResult.GetValue(id)} terminated.");
            return ExitCodes.Success;
        });
        return command;
    }
}
