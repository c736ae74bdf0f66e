using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Porthole.FunctionalTests.Fixtures;

/// <summary>
/// A TCP echo peer on 127.0.0.1: writes back every byte it reads, hashes what it received (SHA-256), and half-closes
/// its side after the client's EOF. The target of the integrity and fault tests: it proves what reached the device.
/// </summary>
public sealed class HashingEchoServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly Task _accepting;
    private int _open;

    public HashingEchoServer()
    {
        _listener.Start(backlog: 512);
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>One entry per connection that reached EOF: the bytes it received and their SHA-256 (hex).</summary>
    public ConcurrentBag<(long Bytes, string Sha256)> Completed { get; } = [];

    /// <summary>Connections that ended with an error (reset, abort) instead of an EOF, with the error.</summary>
    public ConcurrentBag<string> Failed { get; } = [];

    /// <summary>Connections open right now.</summary>
    public int Open => Volatile.Read(ref _open);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _connections.Add(Task.Run(() => EchoAsync(socket)));
        }
    }

    private async Task EchoAsync(Socket socket)
    {
        Interlocked.Increment(ref _open);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long total = 0;
        try
        {
            using (socket)
            {
                while (true)
                {
                    var read = await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                    if (read == 0)
                    {
                        break;
                    }

                    hash.AppendData(buffer, 0, read);
                    total += read;
                    await socket.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
                }

                socket.Shutdown(SocketShutdown.Send);
                Completed.Add((total, Convert.ToHexString(hash.GetHashAndReset())));
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            Failed.Add(ex.Message);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        await Task.WhenAll(_connections);
        _stop.Dispose();
    }
}
