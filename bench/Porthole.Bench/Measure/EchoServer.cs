using System.Net;
using System.Net.Sockets;

namespace Porthole.Bench.Measure;

/// <summary>
/// The latency target: a TCP echo server on 127.0.0.1 with one blocking thread per connection, so the target
/// itself adds as little as possible (no thread-pool hop) and the same amount on every path.
/// </summary>
public sealed class EchoServer : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Thread _acceptor;

    public EchoServer()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(1024);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _acceptor = new Thread(Accept) { IsBackground = true, Name = "echo-accept" };
        _acceptor.Start();
    }

    public int Port { get; }

    private void Accept()
    {
        while (true)
        {
            Socket connection;
            try
            {
                connection = _listener.Accept();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return;
            }

            connection.NoDelay = true;
            new Thread(() => Echo(connection), 64 * 1024) { IsBackground = true, Name = "echo" }.Start();
        }
    }

    private static void Echo(Socket connection)
    {
        var buffer = new byte[16 * 1024];
        using (connection)
        {
            try
            {
                while (true)
                {
                    var read = connection.Receive(buffer);
                    if (read == 0)
                    {
                        return;
                    }

                    connection.Send(buffer.AsSpan(0, read));
                }
            }
            catch (SocketException)
            {
                // The client went away.
            }
        }
    }

    public void Dispose() => _listener.Dispose();
}
