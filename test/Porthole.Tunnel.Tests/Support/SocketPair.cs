using System.Net;
using System.Net.Sockets;

namespace Porthole.Tunnel.Tests.Support;

/// <summary>Two connected loopback TCP sockets, each with a <see cref="NetworkStream"/>.</summary>
internal sealed class SocketPair : IDisposable
{
    private SocketPair(Socket left, Socket right)
    {
        Left = left;
        Right = right;
        LeftStream = new NetworkStream(left, ownsSocket: true);
        RightStream = new NetworkStream(right, ownsSocket: true);
    }

    public Socket Left { get; }

    public Socket Right { get; }

    public NetworkStream LeftStream { get; }

    public NetworkStream RightStream { get; }

    public static async Task<SocketPair> CreateAsync(int? bufferSize = null)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var left = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (bufferSize is { } size)
        {
            // Fixed buffers switch off auto-tuning, so back-pressure shows after a known amount of data.
            left.SendBufferSize = left.ReceiveBufferSize = size;
            listener.ReceiveBufferSize = listener.SendBufferSize = size;
        }

        var accept = listener.AcceptAsync();
        await left.ConnectAsync(listener.LocalEndPoint!);
        var right = await accept;
        right.NoDelay = true;
        if (bufferSize is { } size2)
        {
            right.SendBufferSize = right.ReceiveBufferSize = size2;
        }

        return new SocketPair(left, right);
    }

    public void Dispose()
    {
        LeftStream.Dispose();
        RightStream.Dispose();
        Left.Dispose();
        Right.Dispose();
    }
}
