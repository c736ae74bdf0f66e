using System.CommandLine;
using Microsoft.Extensions.Logging;
using Porthole.Agent.Control;
using Porthole.Agent.Enrolment;
using Porthole.Agent.Sessions;
using Porthole.Agent.State;
using Porthole.Protocol.Security;
using Porthole.Tunnel.Transport;

namespace Porthole.Agent;

/// <summary>The <c>porthole-agent</c> commands: <c>enrol</c>, <c>run</c> and <c>remote-access</c> (the local kill switch).</summary>
public static class AgentCommandLine
{
    public static Task<int> InvokeAsync(string[] args)
    {
        var root = new RootCommand("Porthole gateway agent: keeps an outbound connection to the Porthole server and relays remote-access sessions to devices on this network.");
        root.Subcommands.Add(CreateEnrolCommand());
        root.Subcommands.Add(CreateRunCommand());
        root.Subcommands.Add(CreateRemoteAccessCommand());
        return root.Parse(args).InvokeAsync();
    }

    private static Option<string> StateDirOption() => new("--state-dir")
    {
        Description = "Directory that holds the device credential (created 0600)",
        Required = true,
    };

    private static Option<bool> DisableRemoteAccessOption() => new("--disable-remote-access")
    {
        Description = "Refuse every remote-access session (local kill switch) and report that to the server",
    };

    private static Command CreateEnrolCommand()
    {
        var server = new Option<string>("--server") { Description = "Server URL, e.g. https://porthole.example.com", Required = true };
        var token = new Option<string>("--token") { Description = "One-time enrolment token from 'porthole devices add'", Required = true };
        var stateDir = StateDirOption();
        var fingerprint = new Option<string?>("--fingerprint") { Description = "Pin the server certificate's SHA-256 fingerprint" };
        var caCert = new Option<string?>("--ca-cert") { Description = "Trust the server certificate issued by this CA (PEM or DER file)" };
        var insecure = new Option<bool>("--insecure") { Description = "Do not verify the server certificate (dangerous)" };
        var disable = DisableRemoteAccessOption();

        var command = new Command("enrol", "Exchange an enrolment token for this device's credential") { server, token, stateDir, fingerprint, caCert, insecure, disable };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var trust = BuildTrust(parse.GetValue(fingerprint), parse.GetValue(caCert), parse.GetValue(insecure));
            if (trust is null || !Uri.TryCreate(parse.GetValue(server), UriKind.Absolute, out var serverUri) || serverUri.Scheme is not ("https" or "http"))
            {
                await Console.Error.WriteLineAsync("porthole-agent: --server must be an http(s) URL and --fingerprint 64 hex digits (SHA-256)");
                return 2;
            }

            try
            {
                var state = await Enroller.EnrolAsync(serverUri, parse.GetValue(token)!, trust, parse.GetValue(disable), cancellationToken);
                var store = new AgentStateStore(parse.GetValue(stateDir)!);
                store.Save(state);
                Console.Out.WriteLine($"Enrolled as device '{state.DeviceName}' ({state.DeviceId}); credential saved to {store.FilePath}.");
                Console.Out.WriteLine($"Start the agent with: porthole-agent run --state-dir {parse.GetValue(stateDir)}");
                return 0;
            }
            catch (Exception ex) when (ex is EnrolmentException or HttpRequestException or TaskCanceledException or IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync("porthole-agent: enrolment failed: " + Describe(ex));
                return 1;
            }
        });
        return command;
    }

    private static Command CreateRunCommand()
    {
        var stateDir = StateDirOption();
        var disable = DisableRemoteAccessOption();
        var allow = new Option<string[]>("--allow-target")
        {
            Description = "Only dial these targets: CIDR or address, optionally :PORT or :FIRST-LAST (repeatable)",
            AllowMultipleArgumentsPerToken = false,
        };
        var deny = new Option<string[]>("--deny-target")
        {
            Description = "Never dial these targets, in addition to link-local/metadata, multicast and the server itself (repeatable)",
        };
        var keepAliveInterval = new Option<double>("--keep-alive-interval")
        {
            Description = "Seconds between keep-alive pings on the control channel and every session (default 15)",
            DefaultValueFactory = _ => KeepAliveSettings.Default.Interval.TotalSeconds,
        };
        var keepAliveTimeout = new Option<double>("--keep-alive-timeout")
        {
            Description = "Seconds of silence beyond the interval after which the server counts as gone (default 15)",
            DefaultValueFactory = _ => KeepAliveSettings.Default.Timeout.TotalSeconds,
        };
        var command = new Command("run", "Connect to the server and serve remote-access sessions until stopped") { stateDir, disable, allow, deny, keepAliveInterval, keepAliveTimeout };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var store = new AgentStateStore(parse.GetValue(stateDir)!);
            AgentState? state;
            try
            {
                state = store.Load();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
            {
                await Console.Error.WriteLineAsync($"porthole-agent: cannot read {store.FilePath}: {ex.Message}");
                return 1;
            }

            if (state is null)
            {
                await Console.Error.WriteLineAsync($"porthole-agent: not enrolled ({store.FilePath} does not exist); run 'porthole-agent enrol' first");
                return 1;
            }

            // Logs go to stderr so stdout stays free for anything a wrapper script wants to read.
            using var loggers = LoggerFactory.Create(logging => logging
                .AddFilter("System.Net.Http", LogLevel.Warning)
                .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace)
                .AddSimpleConsole(console =>
                {
                    console.SingleLine = true;
                    console.TimestampFormat = "yyyy-MM-dd HH:mm:ss ";
                }));
            var killSwitch = new RemoteAccessSwitch(parse.GetValue(stateDir)!, disabledForLife: parse.GetValue(disable) || state.RemoteAccessDisabled);
            List<TargetRule> allowed, denied;
            KeepAliveSettings keepAlive;
            try
            {
                allowed = [.. (parse.GetValue(allow) ?? []).Select(TargetRule.Parse)];
                denied = [.. (parse.GetValue(deny) ?? []).Select(TargetRule.Parse)];
                keepAlive = new KeepAliveSettings(TimeSpan.FromSeconds(parse.GetValue(keepAliveInterval)), TimeSpan.FromSeconds(parse.GetValue(keepAliveTimeout)));
                keepAlive.Validate("--keep-alive-interval and --keep-alive-timeout");
            }
            catch (Exception ex) when (ex is FormatException or InvalidOperationException or OverflowException or ArgumentException)
            {
                await Console.Error.WriteLineAsync("porthole-agent: " + ex.Message);
                return 2;
            }

            var runner = new AgentRunner(state, killSwitch, allowed, denied, keepAlive, loggers.CreateLogger("porthole-agent"));
            return await runner.RunAsync(cancellationToken);
        });
        return command;
    }

    /// <summary>
    /// <c>remote-access disable|enable|status</c>: the kill switch of an agent that is running (it notices within about
    /// a second, and a disable ends its open sessions) or not (it starts in that state). See <see cref="RemoteAccessSwitch"/>.
    /// </summary>
    private static Command CreateRemoteAccessCommand()
    {
        var command = new Command("remote-access", "Turn remote access to this gateway off or on locally (the kill switch), or show it");

        var disableDir = StateDirOption();
        var reason = new Option<string?>("--reason") { Description = "Why, kept in the marker file for whoever looks next" };
        var disable = new Command("disable", "Refuse new sessions and end the open ones, until 'enable'") { disableDir, reason };
        disable.SetAction(parse => RunSwitchCommand(parse.GetValue(disableDir)!, directory =>
        {
            var marker = RemoteAccessSwitch.Disable(directory, parse.GetValue(reason), DateTimeOffset.UtcNow);
            Console.Out.WriteLine($"Remote access disabled ({marker}). A running agent ends its open sessions within a second.");
        }));

        var enableDir = StateDirOption();
        var enable = new Command("enable", "Allow sessions again (unless the agent runs with --disable-remote-access)") { enableDir };
        enable.SetAction(parse => RunSwitchCommand(parse.GetValue(enableDir)!, directory =>
        {
            var removed = RemoteAccessSwitch.Enable(directory);
            Console.Out.WriteLine(removed ? "Remote access enabled." : "Remote access was not disabled by 'remote-access disable'; nothing to do.");
            if (new AgentStateStore(directory).Load() is { RemoteAccessDisabled: true })
            {
                Console.Out.WriteLine("Note: this gateway was enrolled with --disable-remote-access; it stays disabled until enrolled again.");
            }
        }));

        var statusDir = StateDirOption();
        var status = new Command("status", "Show whether the kill switch is off or on") { statusDir };
        status.SetAction(parse => RunSwitchCommand(parse.GetValue(statusDir)!, directory =>
        {
            var marker = RemoteAccessSwitch.MarkerPathIn(directory);
            if (new AgentStateStore(directory).Load() is { RemoteAccessDisabled: true })
            {
                Console.Out.WriteLine("Remote access: disabled (enrolled with --disable-remote-access)");
            }
            else if (File.Exists(marker))
            {
                Console.Out.WriteLine($"Remote access: disabled ({File.ReadAllText(marker).Trim()}; {marker})");
            }
            else
            {
                Console.Out.WriteLine("Remote access: enabled (unless the running agent was started with --disable-remote-access)");
            }
        }));

        command.Subcommands.Add(disable);
        command.Subcommands.Add(enable);
        command.Subcommands.Add(status);
        return command;
    }

    /// <summary>Runs a kill-switch command on an existing state directory; a missing or unreadable one is an error, not a new directory.</summary>
    private static int RunSwitchCommand(string stateDirectory, Action<string> action)
    {
        if (!Directory.Exists(stateDirectory))
        {
            Console.Error.WriteLine($"porthole-agent: {stateDirectory} does not exist; give the agent's --state-dir");
            return 2;
        }

        try
        {
            action(stateDirectory);
            return 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            Console.Error.WriteLine("porthole-agent: " + ex.Message);
            return 1;
        }
    }

    private static ServerTrust? BuildTrust(string? fingerprint, string? caCert, bool insecure)
    {
        if (fingerprint is not null && CertificateFingerprint.Normalize(fingerprint) is null)
        {
            return null;
        }

        if (insecure)
        {
            Console.Error.WriteLine("porthole-agent: WARNING: --insecure disables server certificate verification; anyone on the path can impersonate the server.");
        }

        return new ServerTrust(fingerprint, caCert, insecure);
    }

    private static string Describe(Exception ex) =>
        ex.InnerException is { } inner && ex is HttpRequestException ? $"{ex.Message} ({inner.Message})" : ex.Message;
}
