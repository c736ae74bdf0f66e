using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Porthole.Cli.Api;
using Porthole.Cli.Configuration;
using Porthole.Cli.Sessions;

namespace Porthole.Cli.Commands;

/// <summary><c>porthole forward</c> and <c>porthole connect</c>: carry sessions to an endpoint.</summary>
public static class SessionCommands
{
    /// <summary><c>forward DEVICE/ENDPOINT [--local-port N] [--bind ADDR]</c>.</summary>
    public static Command BuildForward(GlobalOptions global)
    {
        var target = new Argument<string>("DEVICE/ENDPOINT") { Description = "The endpoint, e.g. gw-01/vnc" };
        var localPort = new Option<int>("--local-port", "-p") { Description = "Local port to listen on (0 picks a free one)", DefaultValueFactory = _ => 0 };
        var bind = new Option<string>("--bind") { Description = "Local address to listen on", DefaultValueFactory = _ => "127.0.0.1" };
        var command = new Command("forward", "Listen on a local port and carry every connection to the endpoint, until Ctrl+C") { target, localPort, bind };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var which = EndpointRef.Parse(parseResult.GetValue(target));
            var endpoint = ParseEndpoint(parseResult.GetValue(bind)!, parseResult.GetValue(localPort));
            using var api = CliContext.Resolve(parseResult, global).CreateClient();

            // Fail now on a wrong name or a bad token, not on the first connection.
            await api.GetEndpointAsync(which.Device, which.Endpoint, cancellationToken);

            var listener = new TcpListener(endpoint);
            try
            {
                listener.Start();
            }
            catch (SocketException ex)
            {
                throw new CliException($"cannot listen on {endpoint}: {ex.Message}", ex);
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

            // Tests and scripts parse this line for the port: write it whole and flush at once.
            Console.Out.WriteLine($"Forwarding {listener.LocalEndpoint} -> {which}");
            Console.Out.Flush();

            await new LocalForwarder(new SessionOpener(api, keepSpare: true), which).RunAsync(listener, stop.Token);
            return ExitCodes.Success;

            void Stop(PosixSignalContext context)
            {
                // Ctrl+C/SIGTERM is the normal way to end a forward: stop cleanly and exit 0.
                context.Cancel = true;
                stop.Cancel();
            }
        });
        return command;
    }

    /// <summary><c>connect DEVICE/ENDPOINT</c>: one session over stdin/stdout.</summary>
    public static Command BuildConnect(GlobalOptions global)
    {
        var target = new Argument<string>("DEVICE/ENDPOINT") { Description = "The endpoint, e.g. gw-01/ssh" };
        var command = new Command("connect", "Carry one session over stdin/stdout (e.g. ssh -o ProxyCommand='porthole connect gw-01/ssh' user@gw-01)") { target };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var which = EndpointRef.Parse(parseResult.GetValue(target));
            using var api = CliContext.Resolve(parseResult, global).CreateClient();
            return await StdioSession.RunAsync(new SessionOpener(api), which, cancellationToken);
        });
        return command;
    }

    private static IPEndPoint ParseEndpoint(string bind, int port)
    {
        var address = bind == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(bind, out var parsed) ? parsed
            : throw CliException.Usage($"--bind needs an IP address, not '{bind}'");
        if (port is < 0 or > IPEndPoint.MaxPort)
        {
            throw CliException.Usage($"--local-port must be between 0 and {IPEndPoint.MaxPort}");
        }

        return new IPEndPoint(address, port);
    }
}
