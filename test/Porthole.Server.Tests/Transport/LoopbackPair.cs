using System.Net;
using System.Net.Sockets;

namespace Porthole.Server.Tests.Transport;

/// <summary>A real TCP connection on 127.0.0.1: the accepted side for the code under test, the connecting side as its peer.</summary>
internal static class LoopbackPair
{
    public static (Socket Ours, Socket Peer) Connect()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        peer.Connect(listener.LocalEndPoint!);
        return (listener.Accept(), peer);
    }
}
