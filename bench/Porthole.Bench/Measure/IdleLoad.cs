using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net.WebSockets;
using Porthole.Bench.Paths;
using Porthole.Protocol.Api;
using Porthole.Protocol.Control;
using Porthole.Tunnel.Transport;

namespace Porthole.Bench.Measure;

/// <summary>Server memory (PSS) added by idle sessions and by idle connected agents.</summary>
public static class IdleLoad
{
    /// <summary>Smoke mode: no settling, no induced GC, one read — the figure only has to exist.</summary>
    public static bool Quick { get; set; }

    /// <summary>How long idle sessions and agents stay connected after their reading, for <c>dotnet-gcdump</c> (<c>--hold-idle</c>).</summary>
    public static TimeSpan Hold { get; set; }

    private static TimeSpan WindDown => Quick ? TimeSpan.FromSeconds(0.2) : TimeSpan.FromSeconds(2);

    /// <summary>How long the server's CPU is counted while idle, before the sessions open and while they sit idle.</summary>
    private static TimeSpan IdleCpuWindow => Quick ? TimeSpan.FromSeconds(0.5) : TimeSpan.FromSeconds(10);

    /// <summary>
    /// Opens <paramref name="count"/> sessions through the echo forward, proves each carries a byte, leaves them
    /// idle and reads the server's PSS growth per session and the CPU it spends while they idle (keep-alive pings,
    /// timers, garbage collection). <paramref name="whileOpen"/> runs after the readings, before the sessions close: a
    /// reading taken after they closed would start from a heap with their freed memory in it, which the next
    /// connections fill without adding pages (the idle agents read 5–7 KiB each that way).
    /// </summary>
    public static async Task<IdleSessionsReading> SessionsAsync(PortholePath path, int count, Func<Task>? whileOpen = null)
    {
        var before = await SettledPssAsync(path.ServerPid);
        var idleBefore = await IdleCpuAsync(path);
        var sockets = new List<Socket>(count);
        try
        {
            var half = count / 2;
            OpenSessions(path, sockets, half);
            var atHalf = await SettledPssAsync(path.ServerPid);
            OpenSessions(path, sockets, count - half);
            var after = await SettledPssAsync(path.ServerPid);
            var idleCpu = await IdleCpuAsync(path) - idleBefore;
            await HoldAsync(count, "idle sessions", path.ServerPid);

            if (whileOpen is not null)
            {
                await whileOpen();
            }

            return new IdleSessionsReading(
                KiBPerSession: (after - before) / (double)count,
                SecondHalfKiBPerSession: (after - atHalf) / (double)Math.Max(1, count - half),
                CorePercentPer1000: 100 * idleCpu.Server * 1000 / count,
                AgentCorePercentPer1000: 100 * idleCpu.Agent * 1000 / count,
                ForwardCorePercentPer1000: 100 * idleCpu.Forward * 1000 / count);
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }

            // Let the sessions wind down before the next measurement.
            await Task.Delay(WindDown);
        }
    }

    private static void OpenSessions(PortholePath path, List<Socket> sockets, int count)
    {
        var one = new byte[1];
        for (var i = 0; i < count; i++)
        {
            var socket = Latency.Connect(path.EchoPort);
            sockets.Add(socket);
            socket.Send(one);
            if (socket.Receive(one) != 1)
            {
                throw new InvalidOperationException("idle session carried no byte");
            }
        }
    }

    /// <summary>
    /// Registers and enrols <paramref name="count"/> devices, connects each one's control channel (hello/welcome,
    /// exactly what porthole-agent does) from this process, and returns the server's PSS growth per agent in KiB.
    /// </summary>
    public static async Task<IdleAgentsReading> AgentsAsync(PortholePath path, int count)
    {
        var trust = path.Fingerprint is null ? new ServerTrust(Insecure: true) : new ServerTrust(path.Fingerprint);
        // SocketsHttpHandler's own TLS, for its knobs: the readings are the server's memory, which the client's TLS
        // library does not change.
        using var handler = (SocketsHttpHandler)trust.CreateHandler(ClientTlsChoice.SslStream);
        handler.UseProxy = false;
        handler.MaxConnectionsPerServer = 64;
        using var http = new HttpClient(handler, disposeHandler: false) { BaseAddress = path.ServerUrl, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", path.ApiToken());
        var credentials = new string[count];
        var stamp = DateTime.UtcNow.Ticks.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
        {
            var created = await http.PostAsJsonAsync("/api/v1/devices", new CreateDeviceRequest($"idle-{stamp}-{i}"), ApiJsonContext.Default.CreateDeviceRequest, ct);
            created.EnsureSuccessStatusCode();
            var device = await created.Content.ReadFromJsonAsync(ApiJsonContext.Default.CreateDeviceResponse, ct);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/agent/enrol") { Content = JsonContent.Create(new EnrolRequest(device!.EnrolmentToken), ApiJsonContext.Default.EnrolRequest) };
            request.Headers.Authorization = null;
            var enrolled = await http.SendAsync(request, ct);
            enrolled.EnsureSuccessStatusCode();
            credentials[i] = (await enrolled.Content.ReadFromJsonAsync(ApiJsonContext.Default.EnrolResponse, ct))!.Credential;
        });

        var before = await SettledPssAsync(path.ServerPid);
        using var invoker = new HttpMessageInvoker(handler, disposeHandler: false);
        var connector = new DataWebSocketConnector(invoker);
        var uri = DataWebSocketConnector.ToWebSocketUri(path.ServerUrl, "/api/v1/agent/control");
        var channels = new ControlChannel[count];
        using var stop = new CancellationTokenSource();
        var readers = new Task[count];
        try
        {
            async Task ConnectAsync(int from, int to) => await Parallel.ForAsync(from, to, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            {
                var webSocket = await connector.ConnectAsync(uri, credentials[i], ControlProtocol.SubProtocol, null, ct);
                var channel = new ControlChannel(webSocket);
                channels[i] = channel;
                await channel.SendAsync(new HelloMessage(ControlProtocol.MinVersion, ControlProtocol.MaxVersion, "bench", true, "bench"), ct);
                var welcome = await channel.ReceiveAsync(ct);
                if (welcome.Message is not WelcomeMessage)
                {
                    throw new InvalidOperationException($"agent {i} was not welcomed: {welcome.Error ?? welcome.Message?.GetType().Name}");
                }

                // A pending read answers the server's keep-alive pings, as the real agent's read loop does.
                readers[i] = DrainAsync(channel, stop.Token);
            });

            // Read at the half too, as the sessions are (see IdleSessionsReading).
            var half = count / 2;
            await ConnectAsync(0, half);
            var atHalf = await SettledPssAsync(path.ServerPid);
            await ConnectAsync(half, count);
            var after = await SettledPssAsync(path.ServerPid);
            await HoldAsync(count, "idle agents", path.ServerPid);
            return new IdleAgentsReading((after - before) / (double)count, (after - atHalf) / (double)Math.Max(1, count - half), after);
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var channel in channels)
            {
                channel?.WebSocket.Abort();
                channel?.Dispose();
            }

            await Task.WhenAll(readers.Where(r => r is not null)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await Task.Delay(WindDown);
        }
    }

    /// <summary>The server's, the agent's and the session-holding forward's CPU over <see cref="IdleCpuWindow"/>, in cores.</summary>
    private static async Task<ChainCpu> IdleCpuAsync(PortholePath path)
    {
        var start = ChainCpu.Read(path);
        await Task.Delay(IdleCpuWindow);
        return (ChainCpu.Read(path) - start) / IdleCpuWindow.TotalSeconds;
    }

    /// <summary>CPU seconds (or cores, once divided by a duration) of the processes an idle session runs through.</summary>
    private readonly record struct ChainCpu(double Server, double Agent, double Forward)
    {
        public static ChainCpu Read(PortholePath path) =>
            new(ProcStats.CpuSeconds(path.ServerPid), ProcStats.CpuSeconds(path.AgentPid), ProcStats.CpuSeconds(path.EchoForwardPid));

        public static ChainCpu operator -(ChainCpu a, ChainCpu b) => new(a.Server - b.Server, a.Agent - b.Agent, a.Forward - b.Forward);

        public static ChainCpu operator /(ChainCpu a, double seconds) => new(a.Server / seconds, a.Agent / seconds, a.Forward / seconds);
    }

    private static async Task HoldAsync(int count, string what, int serverPid)
    {
        if (Hold > TimeSpan.Zero)
        {
            Console.Error.WriteLine($"holding {count} {what} for {Hold.TotalSeconds:0} s: server pid {serverPid}");
            await Task.Delay(Hold);
        }
    }

    private static async Task DrainAsync(ControlChannel channel, CancellationToken cancellationToken)
    {
        try
        {
            while (!(await channel.ReceiveAsync(cancellationToken)).IsClosed)
            {
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    /// <summary>PSS after the server has had a moment to finish allocating and a full GC (median of three reads).</summary>
    private static async Task<long> SettledPssAsync(int pid)
    {
        if (Quick)
        {
            return ProcStats.PssKiB(pid);
        }

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await InducedGc.CollectAsync(pid);
        await Task.Delay(TimeSpan.FromSeconds(0.5));
        var samples = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            samples.Add(ProcStats.PssKiB(pid));
            await Task.Delay(200);
        }

        return (long)Stats.Median(samples);
    }
}

/// <summary>
/// What idle sessions cost. <see cref="KiBPerSession"/>: the server's PSS growth per session, from before they opened
/// to all of them open. <see cref="SecondHalfKiBPerSession"/>: the same over the second half only, a consistency check
/// (2026-12-06: at 1 000 and 2 000 sessions it read 7–13 KiB above the first, at 9 000 the two agreed within 1.1 KiB,
/// so at small counts the GC's region-sized steps over a few hundred sessions weigh more than heap freed before).
/// CPU: what each process spends while they idle beyond what it spends idle without them, in % of one core per 1 000
/// sessions (the forward is the one holding the sessions).
/// </summary>
public readonly record struct IdleSessionsReading(
    double KiBPerSession,
    double SecondHalfKiBPerSession,
    double CorePercentPer1000,
    double AgentCorePercentPer1000,
    double ForwardCorePercentPer1000);

/// <summary>Server PSS per idle agent, over all of them and over the second half; and the server's whole PSS with them connected.</summary>
public readonly record struct IdleAgentsReading(double KiBPerAgent, double SecondHalfKiBPerAgent, long ServerPssKiB);
