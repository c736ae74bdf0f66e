using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Porthole.Server.Hosting;
using Porthole.Server.Http;
using Porthole.Tests.Common;

namespace Porthole.Server.Tests.Http;

/// <summary>Real TLS over loopback sockets, real OpenSSL: the connection keeps working and idles without its buffers.</summary>
/// <remarks>Alone, after the other tests: the memory test reads the process's malloc statistics.</remarks>
[Collection(TlsIdleBuffersTests.Alone)]
public sealed class TlsIdleBuffersTests : IDisposable
{
    public const string Alone = "malloc statistics, not parallel";

    private readonly TempDirectory _directory = new("porthole-tls-buffers");
    private readonly X509Certificate2 _certificate;

    public TlsIdleBuffersTests()
    {
        _certificate = SelfSignedCertificate.LoadOrCreate(Path.Combine(_directory.Path, "server.pfx"));
    }

    [Theory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public async Task TryRelease_AfterHandshake_DataStillFlowsBothWays(SslProtocols protocol)
    {
        await using var pair = await TlsPair.ConnectAsync(_certificate, protocol);

        Assert.True(TlsIdleBuffers.TryRelease(pair.Server));
        Assert.True(TlsIdleBuffers.TryRelease(pair.Server)); // idempotent

        // Sizes around one TLS record (16 KiB) and beyond, with idle (released) spells in between.
        var random = new Random(7);
        foreach (var size in new[] { 1, 100, 4096, 16_383, 16_384, 16_385, 70_000, 1 })
        {
            var up = new byte[size];
            random.NextBytes(up);
            await pair.Client.WriteAsync(up);
            Assert.Equal(up, await ReadExactlyAsync(pair.Server, size));

            var down = new byte[size];
            random.NextBytes(down);
            await pair.Server.WriteAsync(down);
            Assert.Equal(down, await ReadExactlyAsync(pair.Client, size));
        }
    }

    [Fact]
    public async Task TryRelease_BeforeHandshake_ReturnsFalse()
    {
        await using var stream = new SslStream(new MemoryStream());
        Assert.False(TlsIdleBuffers.TryRelease(stream));
    }

    [Fact]
    public async Task IdleReleasedConnections_HoldFarLessNativeMemory()
    {
        const int Count = 60;

        // The same exchange on both sets; only the server ends of the second set release their buffers. Best of three
        // rounds: a finalizer or the runtime itself may allocate natively while a set is measured.
        var saved = long.MinValue;
        var rounds = new List<string>();
        for (var round = 0; round < 3 && saved <= 20 * 1024; round++)
        {
            var keeping = await NativeBytesPerPairAsync(Count, release: false);
            var releasing = await NativeBytesPerPairAsync(Count, release: true);
            saved = Math.Max(saved, keeping - releasing);
            rounds.Add($"{keeping / 1024} KiB keeping, {releasing / 1024} KiB releasing");
        }

        // OpenSSL's read and write record buffers are ≈17 KiB each; a released connection returns both.
        Assert.True(saved > 20 * 1024, "per pair: " + string.Join("; ", rounds));
    }

    public void Dispose()
    {
        _certificate.Dispose();
        _directory.Dispose();
    }

    private async Task<long> NativeBytesPerPairAsync(int count, bool release)
    {
        var pairs = new List<TlsPair>(count);
        try
        {
            // One warm-up pair, so one-off allocations (contexts, caches) are not counted.
            pairs.Add(await TlsPair.ConnectAsync(_certificate, SslProtocols.Tls13));
            await ExchangeAsync(pairs[0], release);
            var before = MallocInUse();
            for (var i = 0; i < count; i++)
            {
                var pair = await TlsPair.ConnectAsync(_certificate, SslProtocols.Tls13);
                pairs.Add(pair);
                await ExchangeAsync(pair, release);
            }

            return (MallocInUse() - before) / count;
        }
        finally
        {
            foreach (var pair in pairs)
            {
                await pair.DisposeAsync();
            }
        }
    }

    private static async Task ExchangeAsync(TlsPair pair, bool release)
    {
        if (release)
        {
            Assert.True(TlsIdleBuffers.TryRelease(pair.Server));
        }

        var one = new byte[] { 42 };
        await pair.Client.WriteAsync(one);
        await ReadExactlyAsync(pair.Server, 1);
        await pair.Server.WriteAsync(one);
        await ReadExactlyAsync(pair.Client, 1);
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int count)
    {
        var buffer = new byte[count];
        await stream.ReadExactlyAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        return buffer;
    }

    private static long MallocInUse() => (long)MallInfo2().uordblks;

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallocStatistics MallInfo2();

    [StructLayout(LayoutKind.Sequential)]
    private struct MallocStatistics
    {
        public nuint arena;
        public nuint ordblks;
        public nuint smblks;
        public nuint hblks;
        public nuint hblkhd;
        public nuint usmblks;
        public nuint fsmblks;
        public nuint uordblks;
        public nuint fordblks;
        public nuint keepcost;
    }

    /// <summary>A client and a server <see cref="SslStream"/> over a loopback TCP connection.</summary>
    private sealed class TlsPair(SslStream client, SslStream server) : IAsyncDisposable
    {
        public SslStream Client { get; } = client;

        public SslStream Server { get; } = server;

        public static async Task<TlsPair> ConnectAsync(X509Certificate2 certificate, SslProtocols protocol)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var clientSocket = new TcpClient();
            var connecting = clientSocket.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
            var serverSocket = await listener.AcceptTcpClientAsync();
            await connecting;

            var client = new SslStream(clientSocket.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
            var server = new SslStream(serverSocket.GetStream(), leaveInnerStreamOpen: false);
            await Task.WhenAll(
                client.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", EnabledSslProtocols = protocol }),
                server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate, EnabledSslProtocols = protocol }));
            return new TlsPair(client, server);
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Server.DisposeAsync();
        }
    }
}

/// <summary>Runs <see cref="TlsIdleBuffersTests"/> on its own, after the parallel tests.</summary>
[CollectionDefinition(TlsIdleBuffersTests.Alone, DisableParallelization = true)]
public sealed class TlsIdleBuffersCollection;
