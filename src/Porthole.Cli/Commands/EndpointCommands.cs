using System.CommandLine;
using Porthole.Cli.Configuration;
using Porthole.Cli.Output;
using Porthole.Protocol.Api;

namespace Porthole.Cli.Commands;

/// <summary><c>porthole endpoints add|list|show|update|remove</c>: the services reachable through a gateway.</summary>
public static class EndpointCommands
{
    /// <summary>The <c>endpoints</c> command group.</summary>
    public static Command Build(GlobalOptions global)
    {
        var endpoints = new Command("endpoints", "Manage the services (host:port as seen from the gateway) reachable through a device");
        endpoints.Subcommands.Add(BuildAdd(global));
        endpoints.Subcommands.Add(BuildList(global));
        endpoints.Subcommands.Add(BuildShow(global));
        endpoints.Subcommands.Add(BuildUpdate(global));
        endpoints.Subcommands.Add(BuildRemove(global));
        CredentialCommands.AddTo(endpoints, global);
        return endpoints;
    }

    private static Command BuildAdd(GlobalOptions global)
    {
        var device = new Argument<string>("DEVICE") { Description = "Device name or id" };
        var name = new Option<string>("--name") { Description = "Endpoint name, e.g. ssh", Required = true };
        var host = new Option<string>("--host") { Description = "Host as seen from the gateway", Required = true };
        var port = new Option<int>("--port") { Description = "TCP port", Required = true };
        var protocol = ProtocolOption();
        protocol.Required = true;
        var description = new Option<string?>("--description") { Description = "Free text" };
        var (hostHeader, rewriteLinks) = (HostHeaderOption(), RewriteLinksOption());
        var json = OutputOptions.Json();
        var command = new Command("add", "Add an endpoint to a device") { device, name, host, port, protocol, description, hostHeader, rewriteLinks, json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var request = new CreateEndpointRequest(
                parseResult.GetValue(name)!, parseResult.GetValue(host)!, parseResult.GetValue(port), parseResult.GetValue(protocol)!, parseResult.GetValue(description),
                parseResult.GetValue(hostHeader), parseResult.GetValue(rewriteLinks));
            var created = await api.CreateEndpointAsync(parseResult.GetValue(device)!, request, cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(created, ApiJsonContext.Default.EndpointDto);
            }
            else
            {
                Console.Out.WriteLine($"Endpoint '{created.DeviceName}/{created.Name}' added ({created.Protocol} {created.Host}:{created.Port}).");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildList(GlobalOptions global)
    {
        var device = new Argument<string>("DEVICE") { Description = "Device name or id" };
        var json = OutputOptions.Json();
        var command = new Command("list", "List a device's endpoints") { device, json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var endpoints = await api.ListEndpointsAsync(parseResult.GetValue(device)!, cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(endpoints, ApiJsonContext.Default.ListEndpointDto);
                return ExitCodes.Success;
            }

            var table = new Table("NAME", "PROTOCOL", "TARGET", "CREDENTIAL", "DESCRIPTION");
            foreach (var endpoint in endpoints)
            {
                table.Add(endpoint.Name, endpoint.Protocol, $"{endpoint.Host}:{endpoint.Port}", endpoint.Credential?.Kind ?? "-", Formats.OrDash(endpoint.Description));
            }

            table.Write(Console.Out);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildShow(GlobalOptions global)
    {
        var target = TargetArgument();
        var json = OutputOptions.Json();
        var command = new Command("show", "Show one endpoint") { target, json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var which = EndpointRef.Parse(parseResult.GetValue(target));
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var endpoint = await api.GetEndpointAsync(which.Device, which.Endpoint, cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(endpoint, ApiJsonContext.Default.EndpointDto);
                return ExitCodes.Success;
            }

            var output = Console.Out;
            output.WriteLine($"Name:         {endpoint.DeviceName}/{endpoint.Name}");
            output.WriteLine($"ID:           {endpoint.Id}");
            output.WriteLine($"Protocol:     {endpoint.Protocol}");
            output.WriteLine($"Target:       {endpoint.Host}:{endpoint.Port}");
            output.WriteLine($"Description:  {Formats.OrDash(endpoint.Description)}");
            output.WriteLine($"Credential:   {(endpoint.Credential is { } c ? c.Kind + (c.Username is null ? "" : " for " + c.Username) : "-")}");
            output.WriteLine($"SSH host key: {Formats.OrDash(endpoint.SshHostKey)}");
            if (endpoint.Protocol is "http" or "https")
            {
                output.WriteLine($"Host header:  {endpoint.HostHeader ?? "(host:port)"}");
                output.WriteLine($"Rewrite links: {(endpoint.RewriteAbsoluteLinks ? "yes" : "no")}");
                output.WriteLine($"TLS certificate: {Formats.OrDash(endpoint.TlsCertificate)}");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildUpdate(GlobalOptions global)
    {
        var target = TargetArgument();
        var name = new Option<string?>("--name") { Description = "New endpoint name" };
        var host = new Option<string?>("--host") { Description = "New host as seen from the gateway" };
        var port = new Option<int?>("--port") { Description = "New TCP port" };
        var protocol = ProtocolOption();
        var description = new Option<string?>("--description") { Description = "New description (empty clears it)" };
        var (hostHeader, rewriteLinks) = (HostHeaderOption(), RewriteLinksOption());
        var json = OutputOptions.Json();
        var command = new Command("update", "Change an endpoint; options not given keep their value") { target, name, host, port, protocol, description, hostHeader, rewriteLinks, json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var which = EndpointRef.Parse(parseResult.GetValue(target));
            var request = new UpdateEndpointRequest(
                parseResult.GetValue(name), parseResult.GetValue(host), parseResult.GetValue(port), parseResult.GetValue(protocol), parseResult.GetValue(description),
                parseResult.GetValue(hostHeader), parseResult.GetValue(rewriteLinks));
            if (request == new UpdateEndpointRequest())
            {
                throw CliException.Usage("nothing to change; give at least one of --name, --host, --port, --protocol, --description, --host-header, --rewrite-links");
            }

            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var updated = await api.UpdateEndpointAsync(which.Device, which.Endpoint, request, cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(updated, ApiJsonContext.Default.EndpointDto);
            }
            else
            {
                Console.Out.WriteLine($"Endpoint '{updated.DeviceName}/{updated.Name}' updated ({updated.Protocol} {updated.Host}:{updated.Port}).");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildRemove(GlobalOptions global)
    {
        var target = TargetArgument();
        var command = new Command("remove", "Remove an endpoint") { target };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var which = EndpointRef.Parse(parseResult.GetValue(target));
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            await api.RemoveEndpointAsync(which.Device, which.Endpoint, cancellationToken);
            Console.Out.WriteLine($"Endpoint '{which}' removed.");
            return ExitCodes.Success;
        });
        return command;
    }

    internal static Argument<string> TargetArgument() => new("DEVICE/NAME") { Description = "The endpoint, e.g. gw-01/ssh" };

    private static Option<string?> HostHeaderOption() =>
        new("--host-header") { Description = "Web endpoints: the Host header the device expects (default host:port; empty clears it)" };

    private static Option<bool?> RewriteLinksOption() =>
        new("--rewrite-links") { Description = "Web endpoints: rewrite absolute links to the device's address in its pages (true/false)" };

    private static Option<string?> ProtocolOption()
    {
        var protocol = new Option<string?>("--protocol") { Description = "What the endpoint speaks" };
        protocol.AcceptOnlyFromAmong([.. EndpointProtocols.All]);
        return protocol;
    }
}
