using System.CommandLine;
using Porthole.Cli.Configuration;
using Porthole.Cli.Output;
using Porthole.Protocol.Api;

namespace Porthole.Cli.Commands;

/// <summary>
/// <c>porthole remote-access list|stage|commit|discard</c>: rules that switch remote access on or off globally, per
/// group, tag or device. Changes are staged first and take effect together on commit.
/// </summary>
public static class RemoteAccessCommands
{
    /// <summary>The <c>remote-access</c> command group.</summary>
    public static Command Build(GlobalOptions global)
    {
        var remoteAccess = new Command("remote-access", "Switch remote access on or off per scope (staged, then committed)");
        remoteAccess.Subcommands.Add(BuildList(global));
        remoteAccess.Subcommands.Add(BuildStage(global));
        remoteAccess.Subcommands.Add(BuildCommit(global));
        remoteAccess.Subcommands.Add(BuildDiscard(global));
        return remoteAccess;
    }

    private static Command BuildList(GlobalOptions global)
    {
        var json = OutputOptions.Json();
        var command = new Command("list", "List the committed and staged rules") { json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var rules = await api.ListRemoteAccessRulesAsync(cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(rules, ApiJsonContext.Default.ListRemoteAccessRuleDto);
                return ExitCodes.Success;
            }

            var table = new Table("SCOPE", "TARGET", "SETTING", "STATE", "UPDATED BY");
            foreach (var rule in rules)
            {
                table.Add(
                    rule.Scope,
                    Formats.OrDash(rule.Target),
                    rule.Enabled switch { true => "enabled", false => "disabled", null => "remove" },
                    rule.Staged ? "staged" : "committed",
                    Formats.OrDash(rule.UpdatedBy));
            }

            table.Write(Console.Out);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildStage(GlobalOptions global)
    {
        var everywhere = new Option<bool>("--global") { Description = "The global rule" };
        var group = new Option<string?>("--group") { Description = "The rule of a group (path) and its subgroups" };
        var tag = new Option<string?>("--tag") { Description = "The rule of devices with a tag" };
        var device = new Option<string?>("--device") { Description = "The rule of one device (name or id)" };
        var enable = new Option<bool>("--enable") { Description = "Allow remote access" };
        var disable = new Option<bool>("--disable") { Description = "Block remote access" };
        var clear = new Option<bool>("--clear") { Description = "Remove the rule, so the next broader one applies" };
        var command = new Command("stage", "Stage a change of one rule; 'remote-access commit' applies it")
        {
            everywhere, group, tag, device, enable, disable, clear,
        };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var scopes = new List<(string Scope, string? Target)>();
            if (parseResult.GetValue(everywhere))
            {
                scopes.Add(("global", null));
            }

            AddIfGiven(scopes, "group", parseResult.GetValue(group));
            AddIfGiven(scopes, "tag", parseResult.GetValue(tag));
            AddIfGiven(scopes, "device", parseResult.GetValue(device));
            if (scopes.Count != 1)
            {
                throw CliException.Usage("give exactly one of --global, --group PATH, --tag TAG, --device DEVICE");
            }

            var (on, off, remove) = (parseResult.GetValue(enable), parseResult.GetValue(disable), parseResult.GetValue(clear));
            if ((on ? 1 : 0) + (off ? 1 : 0) + (remove ? 1 : 0) != 1)
            {
                throw CliException.Usage("give exactly one of --enable, --disable, --clear");
            }

            bool? setting = on ? true : off ? false : null;
            var (scope, target) = scopes[0];
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var rule = await api.StageRemoteAccessRuleAsync(new StageRuleRequest(scope, target, setting), cancellationToken);
            var what = rule.Enabled switch { true => "enable remote access", false => "disable remote access", null => "remove the rule" };
            var where = rule.Scope == "global" ? "globally" : $"for {rule.Scope} {rule.Target}";
            Console.Out.WriteLine($"Staged: {what} {where}. Run 'porthole remote-access commit' to apply it.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static void AddIfGiven(List<(string Scope, string? Target)> scopes, string scope, string? target)
    {
        if (target is not null)
        {
            scopes.Add((scope, target));
        }
    }

    private static Command BuildCommit(GlobalOptions global)
    {
        var command = new Command("commit", "Apply every staged change");
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var result = await api.CommitRemoteAccessAsync(cancellationToken);
            Console.Out.WriteLine(result.SessionsEnded > 0
                ? $"Committed {result.Applied} change(s); ended {result.SessionsEnded} open session(s) on devices that are now disabled."
                : $"Committed {result.Applied} change(s).");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildDiscard(GlobalOptions global)
    {
        var command = new Command("discard", "Drop the staged changes you may configure");
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var result = await api.DiscardRemoteAccessAsync(cancellationToken);
            Console.Out.WriteLine($"Discarded {result.Applied} staged change(s).");
            return ExitCodes.Success;
        });
        return command;
    }
}
