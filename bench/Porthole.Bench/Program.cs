using System.Diagnostics;
using Porthole.Bench;
using Porthole.Bench.Measure;
using Porthole.Bench.Paths;
using Porthole.Bench.Report;
using Porthole.Tests.Common;

// The end-to-end benchmark of issue 7. One command: bench/run.sh [--smoke]. See bench/README.md.
if (args.Length > 0 && args[0] == "lean-tls-relay")
{
    // The lean-tls-3 path runs this assembly again as each of its relays.
    return Porthole.Bench.Paths.LeanTls.LeanTlsRelay.Run(args[1..]);
}

var options = BenchOptions.Parse(args);
IdleLoad.Quick = options.Smoke;
IdleLoad.Hold = TimeSpan.FromSeconds(options.HoldIdle);
var started = Stopwatch.StartNew();
var outputDirectory = options.OutputDirectory ?? Path.Combine(Binaries.RepositoryRoot, "bench", "results");
Directory.CreateDirectory(outputDirectory);
void Log(string line) => Console.Error.WriteLine($"[{started.Elapsed:mm\\:ss}] {line}");

using var echo = new EchoServer();
var (iperfServer, iperfPort) = await Iperf.StartServerAsync();
await using var iperfOwner = iperfServer;
await using var sshd = await SshdFixture.StartAsync();
Log($"targets: iperf3 :{iperfPort}, echo :{echo.Port}, sshd :{sshd.Port}");

var paths = new List<BenchPath> { new DirectPath(iperfPort, echo.Port) };
try
{
    bool Wanted(string key) => options.Paths is null || options.Paths.Contains(key);
    if (Wanted("ssh-default"))
    {
        paths.Add(await SshForwardPath.StartAsync(sshd, null, iperfPort, echo.Port));
    }

    if (Wanted("ssh-aes128-gcm"))
    {
        paths.Add(await SshForwardPath.StartAsync(sshd, "aes128-gcm@openssh.com", iperfPort, echo.Port));
    }

    if (Wanted("socat-3"))
    {
        paths.Add(await SocatChainPath.StartAsync(iperfPort, echo.Port));
    }

    if (Wanted("lean-tls-3"))
    {
        paths.Add(await LeanTlsChainPath.StartAsync(iperfPort, echo.Port));
    }

    if (Wanted("porthole-ws"))
    {
        paths.Add(await PortholePath.StartAsync(tls: false, iperfPort, echo.Port, options.ServerEnvironment));
    }

    if (Wanted("porthole-wss"))
    {
        paths.Add(await PortholePath.StartAsync(tls: true, iperfPort, echo.Port, options.ServerEnvironment));
    }

    foreach (var (name, environment) in options.Variants)
    {
        foreach (var tls in new[] { false, true }.Where(t => Wanted(t ? "porthole-wss" : "porthole-ws")))
        {
            paths.Add(await PortholePath.StartAsync(tls, iperfPort, echo.Port, options.ServerEnvironment, name, environment));
        }
    }

    Log("paths up: " + string.Join(", ", paths.Select(p => p.Label)));
    if (options.HoldPaths > 0)
    {
        // Nothing is measured: each path's ports and processes are printed, for iperf3, perf or strace by hand.
        foreach (var path in paths)
        {
            Log($"{path.Label,-24} iperf3 -c 127.0.0.1 -p {path.IperfPort}; echo :{path.EchoPort}; server pids {string.Join(' ', path.ServerPids)}; chain pids {string.Join(' ', path.ChainPids)}");
        }

        await Task.Delay(TimeSpan.FromSeconds(options.HoldPaths));
        return 0;
    }

    var results = paths.ToDictionary(p => p.Key, p => new PathResult(p.Key, p.Label));

    // Set-ups first, not measured, so that the session code is compiled to its final tier before anything is measured
    // (the measured set-ups come last). Then idle memory, on processes that have carried no bulk data yet: the
    // runtime's array pool trims buffers left unused for a minute on each full GC, so a reading taken after the
    // throughput tests lost their 128 KiB relay buffers between its two snapshots and came out low (negative, once).
    if (options.SetUpWarmUps > 0)
    {
        Latency.SetUps([.. paths.Select(p => p.EchoPort)], options.SetUpWarmUps);
        Log($"set-up warm-up done ({options.SetUpWarmUps} per path)");
    }

    foreach (var path in paths.OfType<PortholePath>())
    {
        var result = results[path.Key];
        // The agents are read while the idle sessions are still open (see IdleLoad.SessionsAsync).
        var agents = default(IdleAgentsReading);
        var idle = await IdleLoad.SessionsAsync(path, options.IdleSessions, whileOpen: async () =>
        {
            agents = await IdleLoad.AgentsAsync(path, options.IdleAgents);
            (result.IdleAgentKiB, result.IdleAgentSecondHalfKiB, result.IdleAgentsServerPssKiB) = (agents.KiBPerAgent, agents.SecondHalfKiBPerAgent, agents.ServerPssKiB);
        });
        (result.IdleSessionKiB, result.IdleSessionSecondHalfKiB) = (idle.KiBPerSession, idle.SecondHalfKiBPerSession);
        (result.IdleSessionCpuPercent, result.IdleSessionAgentCpuPercent, result.IdleSessionForwardCpuPercent) =
            (idle.CorePercentPer1000, idle.AgentCorePercentPer1000, idle.ForwardCorePercentPer1000);
        Log($"{path.Label,-24} {options.IdleSessions} idle sessions: {result.IdleSessionKiB:0.0} KiB each ({idle.SecondHalfKiBPerSession:0.0} over the second half); "
            + $"CPU while they idle, % of a core per 1 000: server {idle.CorePercentPer1000:0.00}, agent {idle.AgentCorePercentPer1000:0.00}, forward {idle.ForwardCorePercentPer1000:0.00}");
        Log($"{path.Label,-24} {options.IdleAgents} idle agents (with the sessions open): {result.IdleAgentKiB:0.0} KiB each ({agents.SecondHalfKiBPerAgent:0.0} over the second half); server PSS with them {agents.ServerPssKiB / 1024.0 / 1024:0.00} GiB");
    }

    if (!options.Smoke)
    {
        // A thousand agents and the idle sessions have just gone: let their teardown finish before CPU is counted.
        await Task.Delay(TimeSpan.FromSeconds(2));
    }

    // Warm-up, not measured: a second of traffic each way on every path, so that a .NET process's first seconds
    // (tiered JIT compiling the relay's hot methods again with their profile) count neither in its CPU per GB
    // nor in the first throughput sample. ssh and direct get the same, so no path is favoured.
    if (!options.Smoke)
    {
        foreach (var path in paths)
        {
            foreach (var reverse in new[] { false, true })
            {
                try
                {
                    await Iperf.RunAsync(path.IperfPort, 1, reverse, 1);
                }
                catch (InvalidOperationException ex)
                {
                    Log($"{path.Label} warm-up: {ex.Message}");
                }
            }
        }

        Log("warm-up done");
    }

    // Throughput: repetitions round-robin over the paths, so background load on this shared machine spreads
    // over all of them instead of skewing one.
    for (var repeat = 1; repeat <= options.Repeats; repeat++)
    {
        foreach (var path in paths)
        {
            var result = results[path.Key];
            foreach (var test in PathResult.ThroughputTests)
            {
                var streams = test.StartsWith('8') ? 8 : 1;
                var reverse = test.EndsWith("down", StringComparison.Ordinal);
                var serverPids = path.ServerPids.ToList();
                var chainPids = path.ChainPids.ToList();
                var serverCpu = ProcStats.CpuSeconds(serverPids);
                var chainCpu = ProcStats.CpuSeconds(chainPids);
                double bits;
                long bytes;
                try
                {
                    (bits, bytes) = await Iperf.RunAsync(path.IperfPort, streams, reverse, options.Duration);
                }
                catch (InvalidOperationException ex)
                {
                    // One failed run must not lose the others; the table shows the gap and smoke mode fails.
                    Log($"{path.Label} {test}: {ex.Message}\n{path.Diagnostics()}");
                    continue;
                }

                result.ServerCpuSeconds += ProcStats.CpuSeconds(serverPids) - serverCpu;
                result.ChainCpuSeconds += ProcStats.CpuSeconds(chainPids) - chainCpu;
                result.BytesRelayed += bytes;
                result.Throughput[test].Add(bits / 1e9);
                Log($"{repeat}/{options.Repeats} {path.Label,-24} {test,-15} {bits / 1e9,6:0.00} Gbit/s");
            }
        }
    }

    foreach (var path in paths)
    {
        var result = results[path.Key];

        // The previous path's set-ups leave work behind (closing sessions, their audit records, a WAL checkpoint) on
        // the same two cores; let it finish so that it does not land in this path's tail latencies.
        if (!options.Smoke)
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
        }

        result.Rtt1 = Latency.RoundTrips(path.EchoPort, 1, options.RoundTrips);
        result.Rtt4K = Latency.RoundTrips(path.EchoPort, 4096, options.RoundTrips / 2);
        Log($"{path.Label,-24} rtt 1 B p50 {result.Rtt1.P50:0} µs, 4 KiB p50 {result.Rtt4K.P50:0} µs");
    }

    // CPU per set-up, summed over the path's processes, is the figure load on a shared machine does not distort; for
    // Porthole it is also split by process. The pause lets work a set-up leaves behind (spare connections, audit of
    // the close) land in its own path's account.
    var setUpCpu = paths.Select(SetUpCpu.Read).ToList();
    var setUps = Latency.SetUps([.. paths.Select(p => p.EchoPort)], options.SetUps, options.SetUpGapMs);
    await Task.Delay(TimeSpan.FromSeconds(1));
    foreach (var ((path, setUp), cpuBefore) in paths.Zip(setUps).Zip(setUpCpu))
    {
        var result = results[path.Key];
        result.SetUpMs = setUp;
        var perSetUp = SetUpCpu.Read(path).MillisecondsPer(cpuBefore, options.SetUps);
        result.SetUpChainCpuMs = path.ChainPids.Any() ? perSetUp.Chain : null;
        result.SetUpServerCpuMs = perSetUp.Server;
        var split = path is PortholePath ? $" (server {perSetUp.Server:0.00}, agent {perSetUp.Agent:0.00}, CLI {perSetUp.Cli:0.00})" : "";
        Log($"{path.Label,-24} set-up p50 {setUp.P50:0.00} ms, p99 {setUp.P99:0.00} ms, chain CPU {result.SetUpChainCpuMs:0.00} ms per set-up{split}");
    }

    var run = new BenchRun(options, MachineInfo.Collect(), [.. paths.Select(p => results[p.Key])], DateTimeOffset.UtcNow, started.Elapsed);
    var markdown = TableWriter.Markdown(run);
    Console.WriteLine(markdown);
    var stem = options.Smoke ? "smoke" : options.Paths is null && options.ServerEnvironment.Count == 0 && options.Variants.Count == 0 ? "latest" : "partial";
    await File.WriteAllTextAsync(Path.Combine(outputDirectory, stem + ".json"), JsonReport.Serialize(run));
    await File.WriteAllTextAsync(Path.Combine(outputDirectory, stem + ".md"), markdown);
    await File.WriteAllTextAsync(Path.Combine(outputDirectory, stem + ".svg"), SvgChart.Render(run));
    Log($"wrote {stem}.json, {stem}.md, {stem}.svg to {outputDirectory}");

    // Smoke mode asserts that every path ran and carried bytes, never how fast.
    var missing = run.Paths.Where(p => PathResult.ThroughputTests.Any(t => !(p.MedianGbps(t) > 0)) || p.Rtt1 is null || p.SetUpMs is null).ToList();
    if (missing.Count > 0)
    {
        Console.Error.WriteLine("bench: no figures for " + string.Join(", ", missing.Select(p => p.Label)));
        return 1;
    }

    return 0;
}
finally
{
    foreach (var path in paths)
    {
        await path.DisposeAsync();
    }
}
