using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Porthole.Cli.Configuration;
using Porthole.Cli.Output;
using Porthole.Protocol.Api;

namespace Porthole.Cli.Commands;

/// <summary>
/// <c>porthole web DEVICE/ENDPOINT [--open]</c>: opens a device's web page through the server's web proxy (prints the
/// one-time URL, or opens it in the browser); <c>porthole web log ID</c>: a web session's request log.
/// </summary>
public static class WebCommands
{
    public static Command Build(GlobalOptions global)
    {
        var target = new Argument<string>("DEVICE/ENDPOINT") { Description = "An http or https endpoint, e.g. gw-01/printer" };
        var open = new Option<bool>("--open") { Description = "Open the URL in the default browser (xdg-open) instead of only printing it" };
        var json = OutputOptions.Json();
        var web = new Command("web", "Open a device's web page through Porthole: prints a one-time URL valid for a minute") { target, open, json };
        CliAction.Set(web, async (parseResult, cancellationToken) =>
        {
            var which = EndpointRef.Parse(parseResult.GetValue(target));
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var session = await api.CreateWebSessionAsync(new CreateWebSessionRequest(which.Device, which.Endpoint), cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(session, ApiJsonContext.Default.WebSessionResponse);
            }
            else
            {
                // The URL alone on stdout (scripts capture it); the explanation on stderr.
                Console.Out.WriteLine(session.Url);
                Console.Error.WriteLine($"Web session {session.Id} for {which}: open the URL within a minute; it works once. End it with 'porthole sessions terminate {session.Id}'.");
            }

            if (parseResult.GetValue(open))
            {
                OpenInBrowser(session.Url);
            }

            return ExitCodes.Success;
        });

        web.Subcommands.Add(BuildLog(global));
        return web;
    }

    private static Command BuildLog(GlobalOptions global)
    {
        var id = new Argument<string>("ID") { Description = "Web session id (from 'porthole web', 'porthole sessions list' or the audit log)" };
        var json = OutputOptions.Json();
        var command = new Command("log", "Show the requests of a web session (method, path, status, bytes; never query strings or bodies)") { id, json };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            var requests = await api.ListWebRequestsAsync(parseResult.GetValue(id)!, cancellationToken);
            if (parseResult.GetValue(json))
            {
                JsonOutput.Write(requests, ApiJsonContext.Default.ListWebRequestDto);
                return ExitCodes.Success;
            }

            var table = new Table("TIME", "METHOD", "PATH", "STATUS", "BYTES IN", "BYTES OUT", "MS");
            foreach (var r in requests)
            {
                table.Add(Formats.Time(r.At), r.Method, r.Path, r.Status.ToString(CultureInfo.InvariantCulture),
                    r.BytesIn.ToString(CultureInfo.InvariantCulture), r.BytesOut.ToString(CultureInfo.InvariantCulture), r.DurationMs.ToString(CultureInfo.InvariantCulture));
            }

            table.Write(Console.Out);
            return ExitCodes.Success;
        });
        return command;
    }

    private static void OpenInBrowser(string url)
    {
        try
        {
            using var browser = Process.Start(new ProcessStartInfo("xdg-open") { ArgumentList = { url }, UseShellExecute = false });
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new CliException($"could not start a browser (xdg-open: {ex.Message}); open the URL above yourself", ex);
        }
    }
}
