using System.CommandLine;
using Porthole.Cli.Configuration;
using Porthole.Cli.Output;
using Porthole.Protocol.Api;

namespace Porthole.Cli.Commands;

/// <summary><c>porthole devices add|list|show|update|remove|enrol-token</c>.</summary>
public static class DeviceCommands
{
    /// <summary>Where the agent command printed by <c>devices add</c> keeps its state.</summary>
    public const string AgentStateDirectory = "/var/lib/porthole-agent";

    /// <summary>The <c>devices</c> command group.</summary>
    public static Command Build(GlobalOptions global)
    {
        var devices = new Command("devices", "Register, list, update and remove gateways");
        devices.Subcommands.Add(BuildAdd(global));
        devices.Subcommands.Add(BuildList(global));
        devices.Subcommands.Add(BuildShow(global));
        devices.Subcommands.Add(BuildUpdate(global));
        devices.Subcommands.Add(BuildRemove(global));
        devices.Subcommands.Add(BuildEnrolToken(global));
        return devices;
    }

    private static Command BuildAdd(GlobalOptions global)
    {
        var name = new Argument<string>("NAME") { Description = "Device name (letters, digits, '-', '_', '.')" };
        var group = new Option<string?>("--group") { Description = "Group to put the device in" };
        var tags = new Option<string[]>("--tag") { Description = "Tag the device (repeatable)" };
        var json = OutputOptions.Json();
        var command = new Command("add", "Register a device and print the command that enrols its agent") { name, group, tags, json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var context = CliContext.Resolve(parseResult, global);
            using var api = context.CreateClient();
            var request = new CreateDeviceRequest(parseResult.GetValue(name)!, parseResult.GetValue(group), parseResult.GetValue(tags) ?? []);
            var created = await api.CreateDeviceAsync(request, cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(created, ApiJsonContext.Default.CreateDeviceResponse);
            }
            else
            {
                Console.Out.WriteLine($"Device '{created.Name}' registered (id {created.Id}).");
                WriteEnrolment(created, context);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildList(GlobalOptions global)
    {
        var json = OutputOptions.Json();
        var command = new Command("list", "List devices") { json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var devices = await api.ListDevicesAsync(cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(devices, ApiJsonContext.Default.ListDeviceDto);
                return ExitCodes.Success;
            }

            var now = DateTimeOffset.UtcNow;
            var table = new Table("NAME", "ONLINE", "LAST SEEN", "AGENT", "REMOTE ACCESS", "GROUP", "TAGS");
            foreach (var device in devices)
            {
                table.Add(
                    device.Name,
                    Formats.YesNo(device.Online),
                    device.Online ? "now" : Formats.Ago(device.LastSeenAt, now),
                    Formats.OrDash(device.AgentVersion),
                    RemoteAccess(device),
                    Formats.OrDash(device.Group),
                    Formats.OrDash(string.Join(',', device.Tags)));
            }

            table.Write(Console.Out);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildShow(GlobalOptions global)
    {
        var name = DeviceArgument();
        var json = OutputOptions.Json();
        var command = new Command("show", "Show one device") { name, json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var device = await api.GetDeviceAsync(parseResult.GetValue(name)!, cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(device, ApiJsonContext.Default.DeviceDto);
                return ExitCodes.Success;
            }

            var output = Console.Out;
            output.WriteLine($"Name:           {device.Name}");
            output.WriteLine($"ID:             {device.Id}");
            output.WriteLine($"Online:         {Formats.YesNo(device.Online)}");
            output.WriteLine($"Last seen:      {(device.LastSeenAt is { } seen ? Formats.Time(seen) : "never")}");
            output.WriteLine($"Agent:          {Formats.OrDash(device.AgentVersion)}");
            output.WriteLine($"Enrolled:       {Formats.YesNo(device.Enrolled)}");
            output.WriteLine($"Remote access:  {RemoteAccess(device)}");
            output.WriteLine($"Group:          {Formats.OrDash(device.Group)}");
            output.WriteLine($"Tags:           {Formats.OrDash(string.Join(", ", device.Tags))}");
            output.WriteLine($"Created:        {Formats.Time(device.CreatedAt)}");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildUpdate(GlobalOptions global)
    {
        var name = DeviceArgument();
        var newName = new Option<string?>("--name") { Description = "New device name" };
        var group = new Option<string?>("--group") { Description = "Move to this group (path); \"\" moves it to no group" };
        var tags = new Option<string[]>("--tag") { Description = "Tag (repeatable); the tags given replace the current set" };
        var clearTags = new Option<bool>("--clear-tags") { Description = "Remove every tag" };
        var json = OutputOptions.Json();
        var command = new Command("update", "Rename, move or retag a device; options not given keep their value") { name, newName, group, tags, clearTags, json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var given = parseResult.GetValue(tags);
            var clear = parseResult.GetValue(clearTags);
            if (clear && given is { Length: > 0 })
            {
                throw CliException.Usage("give --tag or --clear-tags, not both");
            }

            var request = new UpdateDeviceRequest(parseResult.GetValue(newName), parseResult.GetValue(group), clear ? [] : given is { Length: > 0 } ? given : null);
            if (request == new UpdateDeviceRequest())
            {
                throw CliException.Usage("nothing to change; give at least one of --name, --group, --tag, --clear-tags");
            }

            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var device = await api.UpdateDeviceAsync(parseResult.GetValue(name)!, request, cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(device, ApiJsonContext.Default.DeviceDto);
            }
            else
            {
                Console.Out.WriteLine($"Device '{device.Name}' updated (group {Formats.OrDash(device.Group)}, tags {Formats.List(device.Tags)}, remote access {RemoteAccess(device)}).");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildRemove(GlobalOptions global)
    {
        var name = DeviceArgument();
        var command = new Command("remove", "Remove a device; its agent is disconnected and its credential stops working") { name };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var device = parseResult.GetValue(name)!;
            await api.RemoveDeviceAsync(device, cancellationToken);
            Console.Out.WriteLine($"Device '{device}' removed.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildEnrolToken(GlobalOptions global)
    {
        var name = DeviceArgument();
        var json = OutputOptions.Json();
        var command = new Command("enrol-token", "Issue a new enrolment token; the device's current credential stops working") { name, json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var context = CliContext.Resolve(parseResult, global);
            using var api = context.CreateClient();
            var issued = await api.ReissueEnrolmentAsync(parseResult.GetValue(name)!, cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(issued, ApiJsonContext.Default.CreateDeviceResponse);
            }
            else
            {
                Console.Out.WriteLine($"New enrolment token for device '{issued.Name}' (its previous credential no longer works).");
                WriteEnrolment(issued, context);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static void WriteEnrolment(CreateDeviceResponse enrolment, CliContext context)
    {
        var output = Console.Out;
        output.WriteLine($"Enrolment token: {enrolment.EnrolmentToken}");
        output.WriteLine($"Expires:         {Formats.Time(enrolment.EnrolmentExpiresAt)} (single use)");
        output.WriteLine("Run this on the gateway:");
        output.WriteLine("  " + AgentEnrolCommand(enrolment, context));
    }

    /// <summary>The exact command that enrols the agent, pinning the certificate when this CLI pins one.</summary>
    public static string AgentEnrolCommand(CreateDeviceResponse enrolment, CliContext context)
    {
        var command = $"porthole-agent enrol --server {context.Server} --token {enrolment.EnrolmentToken} --state-dir {AgentStateDirectory}";
        return context.Trust.Fingerprint is { } fingerprint ? command + " --fingerprint " + fingerprint : command;
    }

    /// <summary>The effective setting and the rule that decided it, e.g. "disabled (group plant-2)" or "enabled (default)".</summary>
    private static string RemoteAccess(DeviceDto device) =>
        $"{(device.RemoteAccessEnabled ? "enabled" : "disabled")} ({(device.RemoteAccessSource == "agent" ? "agent kill switch" : device.RemoteAccessSource)})";

    private static Argument<string> DeviceArgument() => new("NAME") { Description = "Device name or id" };
}
