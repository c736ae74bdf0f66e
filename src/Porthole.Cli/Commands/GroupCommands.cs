using System.CommandLine;
using Porthole.Cli.Configuration;
using Porthole.Cli.Output;
using Porthole.Protocol.Api;

namespace Porthole.Cli.Commands;

/// <summary><c>porthole groups list|add|remove</c>: the device group tree, addressed by path (<c>plant-1/line-a</c>).</summary>
public static class GroupCommands
{
    /// <summary>The <c>groups</c> command group.</summary>
    public static Command Build(GlobalOptions global)
    {
        var groups = new Command("groups", "Manage device groups (paths such as plant-1/line-a)");
        groups.Subcommands.Add(BuildList(global));
        groups.Subcommands.Add(BuildAdd(global));
        groups.Subcommands.Add(BuildRemove(global));
        return groups;
    }

    private static Command BuildList(GlobalOptions global)
    {
        var json = OutputOptions.Json();
        var command = new Command("list", "List the groups you can see") { json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var groups = await api.ListGroupsAsync(cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(groups, ApiJsonContext.Default.ListGroupDto);
                return ExitCodes.Success;
            }

            var table = new Table("PATH", "DEVICES");
            foreach (var group in groups)
            {
                table.Add(group.Path, group.Devices.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            table.Write(Console.Out);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildAdd(GlobalOptions global)
    {
        var path = PathArgument();
        var command = new Command("add", "Create a group and any missing parents") { path };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var group = await api.CreateGroupAsync(new CreateGroupRequest(parseResult.GetValue(path)!), cancellationToken);
            Console.Out.WriteLine($"Group '{group.Path}' created.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildRemove(GlobalOptions global)
    {
        var path = PathArgument();
        var command = new Command("remove", "Remove an empty group (no devices, no subgroups)") { path };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var group = parseResult.GetValue(path)!.Trim('/');
            await api.RemoveGroupAsync(group, cancellationToken);
            Console.Out.WriteLine($"Group '{group}' removed.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Argument<string> PathArgument() => new("PATH") { Description = "Group path, e.g. plant-1/line-a" };
}
