using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Porthole.Bench.Measure;

/// <summary>Round trips through a path to the echo server, on a blocking socket (no thread-pool hops in the client).</summary>
public static class Latency
{
    /// <summary>Percentiles of round-trip times in microseconds.</summary>
    public sealed record Result(double P50, double P99, double P999, int Count);

    public static Result RoundTrips(int port, int messageBytes, int count)
    {
        using var socket = Connect(port);
        var message = new byte[messageBytes];
        Random.Shared.NextBytes(message);
        var reply = new byte[messageBytes];
        var warmUp = Math.Min(500, count / 5);
        var samples = new double[count];
        for (var i = -warmUp; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            socket.Send(message);
            var received = 0;
            while (received < messageBytes)
            {
                var read = socket.Receive(reply.AsSpan(received));
                if (read == 0)
                {
                    throw new InvalidOperationException("echo connection closed");
                }

                received += read;
            }

            if (i >= 0)
            {
                samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }
        }

        Array.Sort(samples);
        return new Result(Stats.Percentile(samples, 50), Stats.Percentile(samples, 99), Stats.Percentile(samples, 99.9), count);
    }

    /// <summary>
    /// Session set-up: connect, send one byte, time until its echo arrives. Milliseconds, one result per port. The
    /// ports take turns in rounds of <see cref="SetUpRound"/> sessions, so background load on this shared machine
    /// falls on every path alike and an A/B variant is compared with its base under the same load. Each connect follows
    /// a pause of <paramref name="gapMs"/> (not measured), so that it starts on a quiet chain.
    /// </summary>
    public static Result[] SetUps(IReadOnlyList<int> ports, int count, int gapMs = 0)
    {
        var samples = ports.Select(_ => new double[count]).ToArray();
        var one = new byte[1];
        for (var done = 0; done < count; done += SetUpRound)
        {
            for (var p = 0; p < ports.Count; p++)
            {
                for (var i = done; i < Math.Min(count, done + SetUpRound); i++)
                {
                    if (gapMs > 0)
                    {
                        Thread.Sleep(gapMs);
                    }

                    var start = Stopwatch.GetTimestamp();
                    using var socket = Connect(ports[p]);
                    socket.Send(one);
                    if (socket.Receive(one) != 1)
                    {
                        throw new InvalidOperationException("no first byte");
                    }

                    samples[p][i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                }
            }
        }

        return [.. samples.Select(s =>
        {
            Array.Sort(s);
            return new Result(Stats.Percentile(s, 50), Stats.Percentile(s, 99), Stats.Percentile(s, 99.9), count);
        })];
    }

    /// <summary>Sessions each path opens before the next path's turn.</summary>
    private const int SetUpRound = 10;

    public static Socket Connect(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
        return socket;
    }
}
